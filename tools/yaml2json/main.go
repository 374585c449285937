// Command yaml2json converts the OpenAPI document from YAML (edited by
// people) to JSON (embedded in and served by the binary).
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: yaml2json IN.yaml OUT.json")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err == nil {
		var doc any
		if err = yaml.Unmarshal(in, &doc); err == nil {
			var out []byte
			if out, err = json.MarshalIndent(doc, "", "  "); err == nil {
				err = os.WriteFile(os.Args[2], append(out, '\n'), 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "yaml2json:", err)
		os.Exit(1)
	}
}
