# Throughput benchmark, included by the main Makefile (include bench/bench.mk).
#
#   make bench                    1M and 10M lines, 3 runs each, median
#   make bench BENCH_SIZES=1m     quick run on 1M lines only (BENCHMARKS.md untouched)
#   make bench RUNS=5             more runs per command
#   make bench LOGSIFT=/path/bin  measure another binary (BENCHMARKS.md untouched)
#
# Variables given on the make command line reach the script's environment;
# bench/bench.sh documents them all. Generated logs are cached in .bench/.

.PHONY: bench
bench:
	bench/bench.sh

# Idle CPU, RSS and descriptors at 1, 100 and 1,000 followed files beside
# tail -F, and a 50 MiB line in a followed file (bench/scale.sh).
.PHONY: bench-scale
bench-scale:
	bench/scale.sh
