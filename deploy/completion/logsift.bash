# bash completion for logsift
_logsift() {
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	local commands="run check test replay rules version help"
	if [[ $COMP_CWORD -eq 1 ]]; then
		COMPREPLY=($(compgen -W "$commands -config -h" -- "$cur"))
		return
	fi
	case $prev in
	-config | -cpuprofile)
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	-show)
		COMPREPLY=($(compgen -W "suppressed forwarded none" -- "$cur"))
		return
		;;
	-format)
		COMPREPLY=($(compgen -W "auto text json docker-json cri" -- "$cur"))
		return
		;;
	-log.level)
		COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
		return
		;;
	-log.format)
		COMPREPLY=($(compgen -W "text json" -- "$cur"))
		return
		;;
	esac
	local flags
	case $cmd in
	run | -config) flags="-config -once -cpuprofile -shutdown.timeout -log.format -log.level" ;;
	check) flags="-config -strict -v" ;;
	replay) flags="-config -show -json -samples -format" ;;
	help) COMPREPLY=($(compgen -W "$commands" -- "$cur")); return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags -h" -- "$cur"))
	else
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -o filenames -F _logsift logsift
