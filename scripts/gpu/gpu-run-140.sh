#!/usr/bin/env bash
# Session 13, call 5, H100: the metadata staging's and greedy ring's events without timing (CU_EVENT_DISABLE_TIMING).
# Event GPU tests and engine GPU tests, then the previous CLI (cli-old, timing events) against the new one: e2e batch 1 / 16,
# three rounds alternating, and one --profile run each (back to back against pipelined steps).
set -uo pipefail
B=.bundle
timeout 120 $B/run-tests -method "*Events*" -method "*SynchronisationOnly*" > $OUT/event-tests.txt 2>&1; tail -1 $OUT/event-tests.txt
timeout 300 $B/run-tests -namespace MarlinSharp.Tests.Engine > $OUT/tests.txt 2>&1
grep -aE "\[FAIL\]" -A14 $OUT/tests.txt | head -30; tail -1 $OUT/tests.txt
for round in 1 2 3; do
  for cli in old new; do
    m=$B/marlin; [[ $cli == old ]] && m=$B/marlin-old
    timeout 150 $m bench e2e --shape llama2-7b --batch 1,16 > $OUT/e2e-$cli-$round.txt 2>&1
    echo "round $round $cli:"; grep -aE "^ +[0-9]+ " $OUT/e2e-$cli-$round.txt | awk '{print "  ", $1, $2, $5, $8}'; grep -a "^marlin:" $OUT/e2e-$cli-$round.txt
  done
done
for cli in old new; do
  m=$B/marlin; [[ $cli == old ]] && m=$B/marlin-old
  timeout 150 $m bench e2e --shape llama2-7b --batch 1,16 --profile > $OUT/profile-$cli.txt 2>&1
  echo "$cli:"; grep -aE "^ +[0-9]+ |back to back|pipelined steps" $OUT/profile-$cli.txt | grep -v "^bench"
done
