package ossclient

// SetUploadsPageSize lets the contract tests page ListMultipartUploads with
// small pages; it returns a function that restores the size.
func SetUploadsPageSize(n int32) (restore func()) {
	old := uploadsPageSize
	uploadsPageSize = n
	return func() { uploadsPageSize = old }
}
