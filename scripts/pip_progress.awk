# Turns `pip install -v` output into a line per phase for scripts/bootstrap.sh: dependencies,
# the kernel build (with its compile progress in quarters), the final install.
function say(text) { print "[bootstrap]   " text; fflush() }
/^Collecting / && !collecting { collecting = 1; say("resolving dependencies") }
/^(Downloading|  Downloading) / { downloads++ }
/Building editable for keras-binary|Getting requirements to build editable/ && !building {
  building = 1; say("building keras-binary (C++ popcount kernels)")
}
match($0, /\[[0-9]+\/[0-9]+\] /) {
  split(substr($0, RSTART + 1, RLENGTH - 3), step, "/")
  quarter = int(4 * step[1] / step[2])
  if (step[2] > 0 && quarter > last_quarter) {
    last_quarter = quarter; say(sprintf("compiled %d of %d build steps", step[1], step[2]))
  }
}
/^Installing collected packages/ {
  say(sprintf("installing packages (%d downloaded)", downloads))
}
/^ERROR|^error:/ { print }
