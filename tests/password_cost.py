"""The argon2id cost of the passwords the tests hash: the lowest argon2 takes, full-length salt and
hash (argon2-cffi's CHEAPEST profile shortens both)."""

from dataclasses import replace

from argon2.profiles import RFC_9106_LOW_MEMORY

TEST_COST = replace(RFC_9106_LOW_MEMORY, time_cost=1, memory_cost=8, parallelism=1)
