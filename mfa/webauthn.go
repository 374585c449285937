package mfa

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cairn-fit/cairn"
	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// CeremonyTimeout is how long a passkey registration or login may take
// between its begin and its finish.
const CeremonyTimeout = 5 * time.Minute

const (
	ceremonyRegistration = "registration"
	ceremonyLogin        = "login"
)

// NewWebAuthn returns the relying party for passkeys: rpID is the domain
// cairn is served on (example.com) and origins the exact origins of its
// pages (https://example.com).
func NewWebAuthn(rpID string, origins []string) (*webauthn.WebAuthn, error) {
	w, err := webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: "cairn",
		RPOrigins:     origins,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementPreferred,
			UserVerification: protocol.VerificationPreferred,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTimeout, TimeoutUVD: CeremonyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTimeout, TimeoutUVD: CeremonyTimeout},
		},
	})
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return w, nil
}

// passkeyUser is a cairn user with its passkeys, as go-webauthn sees it.
// The user handle is the user's id.
type passkeyUser struct {
	u       *cairn.User
	factors []cairn.MFAFactor
	creds   []webauthn.Credential
}

func (p *passkeyUser) WebAuthnID() []byte                         { return []byte(p.u.ID) }
func (p *passkeyUser) WebAuthnName() string                       { return p.u.Email }
func (p *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }
func (p *passkeyUser) WebAuthnDisplayName() string {
	if p.u.Name != "" {
		return p.u.Name
	}
	return p.u.Email
}

func (s *Service) passkeyUser(ctx context.Context, u *cairn.User) (*passkeyUser, error) {
	if s.WebAuthn == nil {
		return nil, cairn.Errorf(cairn.EPRECONDITION, "passkeys are not configured on this server")
	}
	fs, err := s.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := &passkeyUser{u: u}
	for _, f := range fs {
		if f.Kind != cairn.MFAWebAuthn {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(f.Credential, &c); err != nil {
			return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		p.factors = append(p.factors, f)
		p.creds = append(p.creds, c)
	}
	return p, nil
}

// Ceremony is a started passkey registration or login: the options go to
// the browser's navigator.credentials.create() or .get(), the id comes
// back with its response.
type Ceremony struct {
	ID      string          `json:"ceremony_id"`
	Options json.RawMessage `json:"options"`
}

func (s *Service) ceremony(ctx context.Context, userID, kind string, options any, session *webauthn.SessionData) (*Ceremony, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	sess, err := json.Marshal(session)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	id, err := s.DB.CreateWebAuthnCeremony(ctx, userID, kind, sess, s.now().Add(CeremonyTimeout))
	if err != nil {
		return nil, err
	}
	return &Ceremony{ID: id, Options: opts}, nil
}

func (s *Service) takeCeremony(ctx context.Context, userID, id, kind string) (*webauthn.SessionData, error) {
	raw, err := s.DB.TakeWebAuthnCeremony(ctx, userID, id, kind)
	if cairn.ErrorCode(err) == cairn.ENOTFOUND {
		return nil, cairn.Errorf(cairn.EVALIDATION, "the passkey ceremony is unknown, finished or expired: start again")
	} else if err != nil {
		return nil, err
	}
	var sd webauthn.SessionData
	if err := json.Unmarshal(raw, &sd); err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return &sd, nil
}

// BeginPasskeyRegistration starts registering a passkey for u, excluding
// the ones it has. A user who already has a factor needs a recent MFA check
// in this session.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, u *cairn.User, sessionID string) (*Ceremony, error) {
	if err := s.requireOwnerStepUp(ctx, u.ID, sessionID); err != nil {
		return nil, err
	}
	p, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	creation, session, err := s.WebAuthn.BeginRegistration(p,
		webauthn.WithExclusions(webauthn.Credentials(p.creds).CredentialDescriptors()))
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return s.ceremony(ctx, u.ID, ceremonyRegistration, creation, session)
}

// FinishPasskeyRegistration verifies the browser's response (the
// PublicKeyCredential as JSON) and stores the passkey. The session counts
// as having passed MFA (the passkey was just used). The user's recovery
// codes come with the first factor.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, u *cairn.User, sessionID, ceremonyID, name string, response []byte) (*Enrolled, error) {
	p, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	session, err := s.takeCeremony(ctx, u.ID, ceremonyID, ceremonyRegistration)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, cairn.Wrap(cairn.EVALIDATION, err, "the passkey response is not valid")
	}
	cred, err := s.WebAuthn.CreateCredential(p, *session, parsed)
	if err != nil {
		return nil, cairn.Wrap(cairn.EVALIDATION, err, "the passkey response is not valid")
	}
	rec, err := json.Marshal(cred)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	now := s.now().UTC()
	f := &cairn.MFAFactor{UserID: u.ID, Kind: cairn.MFAWebAuthn, Name: strings.TrimSpace(name),
		CredentialID: cred.ID, Credential: rec, ConfirmedAt: &now}
	if f.Name == "" {
		f.Name = "Passkey"
	}
	if err := s.DB.CreateMFAFactor(ctx, f); err != nil {
		return nil, err
	}
	if err := s.MarkVerified(ctx, u.ID, sessionID, cairn.MFAWebAuthn); err != nil {
		return nil, err
	}
	if f, err = s.DB.FindMFAFactor(ctx, u.ID, f.ID); err != nil {
		return nil, err
	}
	return s.enrolled(ctx, f)
}

// BeginPasskeyLogin starts an MFA check of u with one of its passkeys.
func (s *Service) BeginPasskeyLogin(ctx context.Context, u *cairn.User) (*Ceremony, error) {
	p, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(p.creds) == 0 {
		return nil, cairn.Errorf(cairn.EPRECONDITION, "no passkey is registered")
	}
	assertion, session, err := s.WebAuthn.BeginLogin(p)
	if err != nil {
		return nil, cairn.Wrap(cairn.EINTERNAL, err, "internal error")
	}
	return s.ceremony(ctx, u.ID, ceremonyLogin, assertion, session)
}

// FinishPasskeyLogin verifies the browser's assertion (the
// PublicKeyCredential as JSON). A signature counter that did not move
// forward (a cloned authenticator) is refused. On success the session
// has passed MFA.
func (s *Service) FinishPasskeyLogin(ctx context.Context, u *cairn.User, sessionID, ceremonyID string, response []byte) error {
	if err := s.allow(ctx, u.ID); err != nil {
		return err
	}
	p, err := s.passkeyUser(ctx, u)
	if err != nil {
		return err
	}
	session, err := s.takeCeremony(ctx, u.ID, ceremonyID, ceremonyLogin)
	if err != nil {
		return err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return s.outcome(ctx, u.ID, sessionID, cairn.MFAWebAuthn, false)
	}
	cred, err := s.WebAuthn.ValidateLogin(p, *session, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return s.outcome(ctx, u.ID, sessionID, cairn.MFAWebAuthn, false)
	}
	for i, c := range p.creds {
		if !bytes.Equal(c.ID, cred.ID) {
			continue
		}
		rec, err := json.Marshal(cred)
		if err != nil {
			return cairn.Wrap(cairn.EINTERNAL, err, "internal error")
		}
		if err := s.DB.UpdateWebAuthnCredential(ctx, u.ID, p.factors[i].ID, rec); err != nil {
			return err
		}
		return s.outcome(ctx, u.ID, sessionID, cairn.MFAWebAuthn, true)
	}
	return s.outcome(ctx, u.ID, sessionID, cairn.MFAWebAuthn, false)
}
