package corscheck_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/iris-cors/iris-cors-cdk/internal/corscheck"
)

// An API that allows one page, checked as that page and as another.
func ExampleRun() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Origin") == "https://app.example" {
			w.Header().Set("Access-Control-Allow-Origin", "https://app.example")
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Max-Age", "600")
			w.Header().Set("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Write([]byte(`{"ok":true}`))
	}))
	defer api.Close()
	for _, origin := range []string{"https://app.example", "https://other.example"} {
		rep, err := corscheck.Run(context.Background(), corscheck.Options{URL: api.URL + "/items", Origin: origin, Body: `{}`})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: pass %v, denied %v\n", origin, rep.Pass, rep.Denied)
		for _, s := range rep.Steps {
			if s.Skipped != "" {
				fmt.Printf("  %s skipped: %s\n", s.Name, s.Skipped)
				continue
			}
			fmt.Printf("  %s -> %d, allowed %v\n", s.Name, s.Status, s.Verdict.Allowed)
		}
	}
	// Output:
	// https://app.example: pass true, denied false
	//   preflight -> 204, allowed true
	//   request -> 200, allowed true
	//   error path skipped: no request body to make invalid
	// https://other.example: pass false, denied true
	//   preflight -> 204, allowed false
	//   error path skipped: no request body to make invalid
}
