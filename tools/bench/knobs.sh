# Sourced by the bench scripts: set_knob PATH VALUE remembers PATH's value
# first; restore_knobs puts every remembered value back, last set first.
knobs_saved=()
set_knob() { knobs_saved+=("echo $(cat "$1") > $1"); echo "$2" >"$1"; }
restore_knobs() {
	for ((i=${#knobs_saved[@]}-1; i>=0; i--)); do eval "${knobs_saved[i]}" || true; done
	knobs_saved=()
}
