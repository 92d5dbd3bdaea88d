// Command etcd wraps etcdmain so that the test harness can build etcd from the Go module proxy:
// etcd's own go.mod carries replace directives, which `go install pkg@version` refuses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
