# SPDX-License-Identifier: MIT
# Shared by the benchmark scripts (sourced).

# Put a section between "<!-- NAME:begin" and "<!-- NAME:end -->" of
# bench/RESULTS.md, replacing what was there, or append it (creating the
# file with its heading when there is none). The section file holds both
# markers.
results_section() { # results-file name section-file
	local results=$1 name=$2 section=$3
	if [[ -f $results ]] && grep -q "<!-- $name:begin" "$results"; then
		awk -v sec="$section" -v b="<!-- $name:begin" -v e="<!-- $name:end -->" '
			index($0, b) == 1 { while ((getline l < sec) > 0) print l; skip = 1; next }
			index($0, e) == 1 { skip = 0; next }
			!skip { print }' "$results" >"$results.new"
		cat "$results.new" >"$results"
		rm -f "$results.new"
	else
		# Test before redirecting: ">>" creates the file.
		local new_file=0
		[[ -f $results ]] || new_file=1
		{
			if [[ $new_file == 1 ]]; then
				echo "# Benchmark results"
				echo
				echo "Figures measured by the scripts in bench/; each section is rewritten by the"
				echo "script named in it."
			fi
			echo
			cat "$section"
		} >>"$results"
	fi
	echo "bench/RESULTS.md updated (section $name)"
}
