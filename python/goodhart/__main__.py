# __main__.py — `python -m goodhart plot DIR ...` (what `goodhart plot` runs) and `python -m goodhart leaderboard DIR`.
import sys

from . import leaderboard, plot

COMMANDS = {"plot": plot.main, "leaderboard": leaderboard.main}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(f"usage: python -m goodhart {{{'|'.join(COMMANDS)}}} RESULTS_DIR [options]", file=sys.stderr)
        sys.exit(2)
    sys.exit(COMMANDS[sys.argv[1]](sys.argv[2:]))
