package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// manCommand prints the man page, generated from the CLI definition
// (go generate writes it to docs/ossfs.8).
func manCommand() *cli.Command {
	return &cli.Command{
		Name:   "man",
		Usage:  "print the man page (troff), generated from these flags",
		Hidden: true,
		Action: func(c *cli.Context) error {
			page, err := c.App.ToManWithSection(8)
			if err != nil {
				return err
			}
			fmt.Fprint(c.App.Writer, page)
			return nil
		},
	}
}

// completionCommand prints a shell completion script. Bash and zsh ask
// the binary for candidates (urfave/cli's --generate-bash-completion);
// fish gets a static script generated from the flags.
func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script: bash, zsh or fish",
		ArgsUsage: "bash|zsh|fish",
		Description: `Load it with, e.g.:
  ossfs completion bash > /etc/bash_completion.d/ossfs
  ossfs completion zsh > "${fpath[1]}/_ossfs"
  ossfs completion fish > ~/.config/fish/completions/ossfs.fish`,
		Action: func(c *cli.Context) error {
			switch c.Args().First() {
			case "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, "#compdef ossfs\nautoload -U +X bashcompinit && bashcompinit\n"+bashCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(c.App.Writer, s)
			default:
				return fmt.Errorf("completion needs a shell: bash, zsh or fish (got %q)", c.Args().First())
			}
			return nil
		},
	}
}

// bashCompletion asks "ossfs WORDS... --generate-bash-completion" for the
// candidates; file names complete as usual where it offers none.
const bashCompletion = `_ossfs_complete() {
  local cur="${COMP_WORDS[COMP_CWORD]}" words
  words=("${COMP_WORDS[@]:0:COMP_CWORD}")
  [[ "$cur" == -* ]] && words+=("$cur")
  local cands
  cands=$("${words[@]}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "$cands" -- "$cur"))
}
complete -o bashdefault -o default -F _ossfs_complete ossfs
`
