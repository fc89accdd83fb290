package target

import "net/http"

// maxIdlePerHost keeps enough idle connections to one endpoint for a
// runner with many requests in flight: the standard library's default of 2
// would open and close a connection for nearly every request at high
// concurrency.
const maxIdlePerHost = 256

// defaultHTTPClient is the client a target uses when its config gives none.
func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no global cap
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	return &http.Client{Transport: tr}
}
