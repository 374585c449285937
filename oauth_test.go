package cairn

import "testing"

func TestOAuthClientValidate(t *testing.T) {
	ok := OAuthClient{Name: "app", GrantTypes: []string{GrantAuthorizationCode, GrantRefreshToken},
		Scopes: []Scope{ScopeActivityRead, ScopeOfflineAccess}, RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1/cb", "com.example.app:/cb"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid client refused: %v", err)
	}
	service := OAuthClient{Name: "svc", GrantTypes: []string{GrantClientCredentials}, Scopes: []Scope{ScopeAdmin}}
	if err := service.Validate(); err != nil {
		t.Fatalf("service client with admin refused: %v", err)
	}
	for name, c := range map[string]OAuthClient{
		"no name":           {GrantTypes: []string{GrantClientCredentials}, Scopes: []Scope{ScopeExport}},
		"unknown grant":     {Name: "x", GrantTypes: []string{"password"}, Scopes: []Scope{ScopeExport}},
		"unknown scope":     {Name: "x", GrantTypes: []string{GrantClientCredentials}, Scopes: []Scope{"everything"}},
		"no scopes":         {Name: "x", GrantTypes: []string{GrantClientCredentials}},
		"admin for users":   {Name: "x", GrantTypes: []string{GrantClientCredentials, GrantDeviceCode}, Scopes: []Scope{ScopeAdmin}},
		"public service":    {Name: "x", Public: true, GrantTypes: []string{GrantClientCredentials}, Scopes: []Scope{ScopeExport}},
		"refresh alone":     {Name: "x", GrantTypes: []string{GrantClientCredentials, GrantRefreshToken}, Scopes: []Scope{ScopeExport}},
		"code without uri":  {Name: "x", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []Scope{ScopeExport}},
		"http uri":          {Name: "x", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []Scope{ScopeExport}, RedirectURIs: []string{"http://app.example/cb"}},
		"uri with fragment": {Name: "x", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []Scope{ScopeExport}, RedirectURIs: []string{"https://app.example/cb#x"}},
		"relative uri":      {Name: "x", GrantTypes: []string{GrantAuthorizationCode}, Scopes: []Scope{ScopeExport}, RedirectURIs: []string{"/cb"}},
	} {
		if err := c.Validate(); ErrorCode(err) != EVALIDATION {
			t.Errorf("%s: Validate() = %v, want a validation error", name, err)
		}
	}
}
