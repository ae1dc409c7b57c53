package sandbox

import "net/http"

// The middleware sorts requests to the OutSystems APIs into their API
// families (see Service and API in service.go), counts them, applies chaos
// and the rate limits; the admin surface and unknown paths go straight
// through.

// apiMiddleware counts, applies chaos to and rate-limits the OutSystems API
// requests; the admin surface and unknown paths go straight to next.
func (s *Sandbox) apiMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := s.apis.classify(r.URL.Path)
		if call.family == famNone {
			next.ServeHTTP(w, r)
			return
		}
		s.requests.count(call)
		s.chaos.Serve(w, r, call.writeError, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok := s.limits.admit(w, r, call, s.requests); !ok {
				return
			}
			if call.token {
				w = &tokenCapture{ResponseWriter: w, tokens: s.tokens}
			}
			next.ServeHTTP(w, r)
		}))
	})
}
