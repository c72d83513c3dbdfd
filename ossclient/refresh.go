package ossclient

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
)

// Key is one access key, as a refreshable credential source hands it out.
type Key struct {
	ID, Secret string
	// Token is the STS security token; "" for a long-term key.
	Token string
	// Expires is when the source says the key stops working; zero: never.
	Expires time.Time
}

// refresher is a credentials provider over a source that can be asked for
// a new key: it keeps the key until shortly before it expires, or until OSS
// rejects it (markStale), and then asks the source again. The SDK asks the
// provider at every attempt of every request, so the attempt after a
// rejection is signed with the new key.
type refresher struct {
	fetch func(context.Context) (Key, error)
	now   func() time.Time

	mu    sync.Mutex
	key   Key  // GUARDED_BY(mu)
	valid bool // GUARDED_BY(mu)
	stale bool // GUARDED_BY(mu): OSS rejected key
}

// refreshMargin: a key is renewed this long before its Expires.
const refreshMargin = time.Minute

// GetCredentials implements credentials.CredentialsProvider. It holds mu
// across the fetch so that concurrent requests wait for one new key
// instead of each fetching one (the fetch is bounded by ctx).
func (r *refresher) GetCredentials(ctx context.Context) (credentials.Credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.valid || r.stale || (!r.key.Expires.IsZero() && r.now().Add(refreshMargin).After(r.key.Expires)) {
		k, err := r.fetch(ctx)
		if err != nil {
			return credentials.Credentials{}, err
		}
		r.key, r.valid, r.stale = k, true, false
	}
	c := credentials.Credentials{AccessKeyID: r.key.ID, AccessKeySecret: r.key.Secret, SecurityToken: r.key.Token}
	if !r.key.Expires.IsZero() {
		exp := r.key.Expires
		c.Expires = &exp
	}
	return c, nil
}

// markStale makes the next GetCredentials ask the source for a new key.
func (r *refresher) markStale() {
	r.mu.Lock()
	r.stale = true
	r.mu.Unlock()
}

// staleKeyCodes are the OSS answers that mean "this key no longer works",
// which a new key from a refreshable source can cure.
var staleKeyCodes = map[string]bool{
	"SecurityTokenExpired": true,
	"InvalidSecurityToken": true,
	"InvalidAccessKeyId":   true,
}

// staleKeyRetryable is an SDK ErrorRetryable: a request rejected with a
// stale key marks the refresher stale and is retried (within the usual
// attempts), signed with the key the source hands out next.
type staleKeyRetryable struct{ r *refresher }

func (s staleKeyRetryable) IsErrorRetryable(err error) bool {
	var se *oss.ServiceError
	if errors.As(err, &se) && se.StatusCode == 403 && staleKeyCodes[se.Code] {
		s.r.markStale()
		return true
	}
	return false
}
