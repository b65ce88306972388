"""Every helper the tests and the benchmarks share, in one place (fixtures stay in conftest).

`databases` (throwaway databases), `factories` (facilities, users, parts through the
services), `inventory`, `cases`, `payers`, `coding` (data builders per domain), `web` and
`web_seed` (signing in and posting forms), `journeys` (browser journeys), `live`, `load`
and `smtp` (real servers), `spec` (the published OpenAPI spec).
"""
