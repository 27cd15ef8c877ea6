#!/usr/bin/env bash
# `npm test`: the type check and jest side by side. The type check is one core's work for most of a
# minute, beside the jest workers; run in turn it would add that minute to every run.
# Fails when either fails; jest's arguments pass through.
set -uo pipefail
cd "$(dirname "$0")/../.."
npx tsc -p tsconfig.json --noEmit > .typecheck.log 2>&1 &
typecheck=$!
npx jest "$@" | tee .jest-stdout.log
tests=$?
wait "$typecheck"
typed=$?
cat .typecheck.log
rm -f .typecheck.log
if [ "$typed" -ne 0 ]; then echo "typecheck: failed (tsc exit $typed)"; else echo "typecheck: passed"; fi
# CI tooling reads the closing `tests: ...` line (test/support/summary-reporter.js): keep it last.
grep '^tests: ' .jest-stdout.log | tail -1
rm -f .jest-stdout.log
[ "$typed" -eq 0 ] && [ "$tests" -eq 0 ]
