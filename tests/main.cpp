// tests/main.cpp: Catch2's main.
#define CATCH_CONFIG_MAIN
#include "test_common.h"
