package rest

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/cairn-fit/cairn/mfa"
	"github.com/cairn-fit/cairn/rest/api"
)

// The caller's second factors. Every check made here is recorded for the
// token's sign-in (Actor.Session: the personal access token, or the OAuth
// grant), which is how an API caller proves a recent MFA check to the
// sensitive operations (step-up).

// me returns the signed-in user and the MFA service.
func (s *Server) me(ctx context.Context) (*cairn.User, cairn.Actor, error) {
	a, _ := cairn.ActorFrom(ctx)
	if s.MFA == nil {
		return nil, a, cairn.Errorf(cairn.EUNAVAILABLE, "MFA is not available on this server")
	}
	if a.UserID == "" {
		return nil, a, cairn.Errorf(cairn.EFORBIDDEN, "this token acts for a client, not a user")
	}
	u, err := s.Users.FindUser(ctx, a.UserID)
	return u, a, err
}

func factorOut(f *cairn.MFAFactor) api.MFAFactor {
	return api.MFAFactor{Id: f.ID, Kind: api.MFAFactorKind(f.Kind), Name: f.Name, ConfirmedAt: f.ConfirmedAt,
		LastUsedAt: f.LastUsedAt, CreatedAt: f.CreatedAt}
}

func (s *Server) GetMFAStatus(ctx context.Context, _ api.GetMFAStatusRequestObject) (api.GetMFAStatusResponseObject, error) {
	u, _, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	st, err := s.MFA.Status(ctx, u)
	if err != nil {
		return nil, err
	}
	fs, err := s.MFA.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	out := api.GetMFAStatus200JSONResponse{Required: st.Required, Methods: make([]api.MFAStatusMethods, len(st.Methods)),
		Factors: mapSlice(fs, factorOut)}
	for i, m := range st.Methods {
		out.Methods[i] = api.MFAStatusMethods(m)
	}
	return out, nil
}

func (s *Server) EnrollTOTP(ctx context.Context, req api.EnrollTOTPRequestObject) (api.EnrollTOTPResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.MFA.EnrollTOTP(ctx, u, a.Session, deref(req.Body.Name))
	if err != nil {
		return nil, err
	}
	return api.EnrollTOTP201JSONResponse{FactorId: e.FactorID, Secret: e.Secret, OtpauthUrl: e.URL}, nil
}

func (s *Server) ConfirmTOTP(ctx context.Context, req api.ConfirmTOTPRequestObject) (api.ConfirmTOTPResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	e, err := s.MFA.ConfirmTOTP(ctx, u.ID, a.Session, req.FactorId, req.Body.Code)
	if err != nil {
		return nil, err
	}
	out := api.ConfirmTOTP200JSONResponse{Factor: factorOut(&e.Factor)}
	if len(e.RecoveryCodes) > 0 {
		out.RecoveryCodes = &e.RecoveryCodes
	}
	return out, nil
}

func (s *Server) VerifyMFA(ctx context.Context, req api.VerifyMFARequestObject) (api.VerifyMFAResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	method := cairn.MFATOTP
	if req.Body.Method != nil {
		method = string(*req.Body.Method)
	}
	switch method {
	case cairn.MFATOTP:
		err = s.MFA.VerifyTOTP(ctx, u.ID, a.Session, req.Body.Code)
	case cairn.MFARecoveryCode:
		err = s.MFA.VerifyRecoveryCode(ctx, u.ID, a.Session, req.Body.Code)
	default:
		return nil, cairn.Invalid(map[string]string{"method": "must be totp or recovery_code"})
	}
	if err != nil {
		return nil, err
	}
	v, err := s.verified(ctx, u.ID, a.Session, method)
	if err != nil {
		return nil, err
	}
	return api.VerifyMFA200JSONResponse(v), nil
}

// verified audits a passed MFA check and answers when it holds until.
func (s *Server) verified(ctx context.Context, userID, session, method string) (api.MFAVerified, error) {
	now := s.now(ctx)
	if err := s.audit(ctx, userID, cairn.AuditMFAVerify, map[string]any{"method": method, "session": session}); err != nil {
		return api.MFAVerified{}, err
	}
	return api.MFAVerified{Method: method, VerifiedAt: now, ValidUntil: now.Add(mfa.StepUpWindow)}, nil
}

// Passkeys: each ceremony begins with options for the browser and
// finishes with what the browser answered, under the ceremony's id.

func ceremonyOut(c *mfa.Ceremony) (api.PasskeyCeremony, error) {
	out := api.PasskeyCeremony{CeremonyId: c.ID}
	if err := json.Unmarshal(c.Options, &out.Options); err != nil {
		return out, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return out, nil
}

// credentialJSON is the browser's PublicKeyCredential as the bytes the
// MFA service parses.
func credentialJSON(c map[string]any) ([]byte, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, cairn.Invalid(map[string]string{"credential": "must be a PublicKeyCredential as JSON"})
	}
	return b, nil
}

func (s *Server) BeginPasskeyRegistration(ctx context.Context, _ api.BeginPasskeyRegistrationRequestObject) (api.BeginPasskeyRegistrationResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.MFA.BeginPasskeyRegistration(ctx, u, a.Session)
	if err != nil {
		return nil, err
	}
	out, err := ceremonyOut(c)
	return api.BeginPasskeyRegistration200JSONResponse(out), err
}

func (s *Server) FinishPasskeyRegistration(ctx context.Context, req api.FinishPasskeyRegistrationRequestObject) (api.FinishPasskeyRegistrationResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := credentialJSON(req.Body.Credential)
	if err != nil {
		return nil, err
	}
	e, err := s.MFA.FinishPasskeyRegistration(ctx, u, a.Session, req.Body.CeremonyId, deref(req.Body.Name), cred)
	if err != nil {
		return nil, err
	}
	out := api.FinishPasskeyRegistration201JSONResponse{Factor: factorOut(&e.Factor)}
	if len(e.RecoveryCodes) > 0 {
		out.RecoveryCodes = &e.RecoveryCodes
	}
	return out, nil
}

func (s *Server) BeginPasskeyVerification(ctx context.Context, _ api.BeginPasskeyVerificationRequestObject) (api.BeginPasskeyVerificationResponseObject, error) {
	u, _, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.MFA.BeginPasskeyLogin(ctx, u)
	if err != nil {
		return nil, err
	}
	out, err := ceremonyOut(c)
	return api.BeginPasskeyVerification200JSONResponse(out), err
}

func (s *Server) FinishPasskeyVerification(ctx context.Context, req api.FinishPasskeyVerificationRequestObject) (api.FinishPasskeyVerificationResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	cred, err := credentialJSON(req.Body.Credential)
	if err != nil {
		return nil, err
	}
	if err := s.MFA.FinishPasskeyLogin(ctx, u, a.Session, req.Body.CeremonyId, cred); err != nil {
		return nil, err
	}
	v, err := s.verified(ctx, u.ID, a.Session, cairn.MFAWebAuthn)
	if err != nil {
		return nil, err
	}
	return api.FinishPasskeyVerification200JSONResponse(v), nil
}

// now is the time an MFA check was recorded: the MFA service's clock.
func (s *Server) now(context.Context) time.Time {
	if s.MFA != nil && s.MFA.Now != nil {
		return s.MFA.Now()
	}
	return s.Now()
}

func (s *Server) RegenerateRecoveryCodes(ctx context.Context, _ api.RegenerateRecoveryCodesRequestObject) (api.RegenerateRecoveryCodesResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.MFA.RegenerateRecoveryCodes(ctx, u.ID, a.Session)
	if err != nil {
		return nil, err
	}
	return api.RegenerateRecoveryCodes200JSONResponse{RecoveryCodes: codes}, nil
}

func (s *Server) DeleteMFAFactor(ctx context.Context, req api.DeleteMFAFactorRequestObject) (api.DeleteMFAFactorResponseObject, error) {
	u, a, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.MFA.RemoveFactor(ctx, u.ID, a.Session, req.FactorId); err != nil {
		return nil, err
	}
	return api.DeleteMFAFactor204Response{}, nil
}
