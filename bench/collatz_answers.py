#!/usr/bin/env python3
"""collatz_answers.py STEPS.ndjson - the Collatz example's four answers
(examples/collatz) computed from its input, for bench/state.sh to check
weir's endpoints and ClickHouse's queries against. Prints one line each,
a name then the answer's numbers in the order the endpoint gives them:

  longest N S          /longest_step_chain: the number with the most steps
                       (its MAX(step)), the smallest number among equals
  highest N N V        /highest_value: the number whose chain reaches the
                       highest value, and that value (the smallest number
                       among equals)
  part X N...          /part/X: the numbers whose chain passes X, in order,
                       for X = the value at step 3 of the longest chain (a
                       value few chains pass) and X = 16 (nearly every chain)
  chain N STEP VALUE... /chain/N (and /plot/N): the longest chain's steps

Python's integers hold every UINT exactly (awk's doubles do not above 2^53).
Two passes over the file: the second once the longest chain is known."""
import sys


def records(path):
    """(number, step, value) of each line of `weir gen collatz`'s NDJSON,
    {"number":N,"step":S,"value":V,"ts":...}: cut at its fields' fixed
    places (twice as fast as a regular expression; a line of another shape
    makes int() fail)."""
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            try:
                number, step, value, _ = line.split(b",", 3)
                yield int(number[10:]), int(step[7:]), int(value[8:])
            except ValueError:
                sys.exit(f"collatz_answers.py: {path}:{lineno}: not a step as weir gen collatz writes it: {line[:100]!r}")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: collatz_answers.py STEPS.ndjson")
    path = sys.argv[1]
    steps = {}  # number -> MAX(step)
    third = {}  # number -> its value at step 3
    high = (-1, 0)  # (value, -number): the highest value, the smallest number among equals
    for number, step, value in records(path):
        if step > steps.get(number, -1):
            steps[number] = step
        if step == 3:
            third[number] = value
        if (value, -number) > high:
            high = (value, -number)
    if not steps:
        sys.exit(f"collatz_answers.py: {path} holds no steps")
    longest = min(steps, key=lambda n: (-steps[n], n))
    x = third.get(longest, 16)
    passes = {x: set(), 16: set()}
    chain = {}
    for number, step, value in records(path):
        if value in passes:
            passes[value].add(number)
        if number == longest:
            chain[step] = max(value, chain.get(step, value))
    print("longest", longest, steps[longest])
    print("highest", -high[1], -high[1], high[0])
    for v in (x, 16):
        print("part", v, *sorted(passes[v]))
    print("chain", longest, *(f"{s} {chain[s]}" for s in sorted(chain)))


if __name__ == "__main__":
    main()
