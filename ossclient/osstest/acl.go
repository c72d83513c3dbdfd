package osstest

import "encoding/xml"

type aclResult struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   *owner   `xml:"Owner"`
	Grant   string   `xml:"AccessControlList>Grant"`
}

// getObjectACL reports the ACL stored with an object ("default" when none
// was given). It does not follow symlinks: a link's ACL is its own, set by
// PutSymlink's x-oss-object-acl.
func (s *Server) getObjectACL(q *request) *ossError {
	o, e := s.st.lookup(q.bucket, q.key)
	if e != nil {
		return e
	}
	if o == nil {
		return errNoSuchKey()
	}
	acl := o.ACL
	if acl == "" {
		acl = "default"
	}
	return writeXML(q, aclResult{Owner: localOwner, Grant: acl})
}
