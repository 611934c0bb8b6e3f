// main.cpp — the doctest runner of every test file in tests/.
// Contract: nothing else here; each test file holds its own cases.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
