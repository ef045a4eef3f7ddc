# storemon's verbs. Set up first: python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'

bin := ".venv/bin"

# list the recipes
default:
    @{{bin}}/just --list

# load the bundled data if the database is empty, then serve it (the quick start)
run:
    {{bin}}/storemon demo

# the whole test suite
test *args:
    {{bin}}/pytest {{args}}

# the API against its OpenAPI document, with many more generated requests than the suite's
fuzz examples="1000":
    STOREMON_FUZZ_EXAMPLES={{examples}} {{bin}}/pytest tests/test_contract.py

# the property tests with `scale` times their examples (the suite keeps to its time on 2 cores)
properties scale="20":
    STOREMON_EXAMPLES_SCALE={{scale}} {{bin}}/pytest tests/test_property.py tests/test_append.py tests/test_alert_property.py tests/test_quality.py tests/test_store_week.py

# lint, check formatting and types
lint:
    {{bin}}/ruff check .
    {{bin}}/ruff format --check .
    {{bin}}/mypy storemon

# format and fix what can be fixed
fmt:
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# regenerate the bundled sample in data/
sample:
    {{bin}}/storemon generate --out data --bad-rows

# a duckdb shell with the analyst views (reports, runs, loaded data; works while the service runs)
analyst:
    {{bin}}/duckdb -cmd ".read sql/analyst_views.sql"

# many readers at once: Locust's simulated readers against a served report, per route (data/bench/)
load *args:
    {{bin}}/storemon loadtest {{args}}

# measure load, report and API against the speed targets (data sets cached in data/bench/)
bench *args:
    {{bin}}/storemon bench {{args}}
