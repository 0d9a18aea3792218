"""Starting the embedded stack's servers (Redis, an S3 server) as child processes."""
