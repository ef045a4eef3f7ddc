# storemon's verbs. Set up first: python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'

bin := ".venv/bin"

# list the recipes
default:
    @{{bin}}/just --list

# load the bundled data and write data/report.csv
run:
    {{bin}}/storemon demo

# the whole test suite
test *args:
    {{bin}}/pytest {{args}}

# lint and check formatting
lint:
    {{bin}}/ruff check .
    {{bin}}/ruff format --check .

# format and fix what can be fixed
fmt:
    {{bin}}/ruff format .
    {{bin}}/ruff check --fix .

# regenerate the bundled sample in data/
sample:
    {{bin}}/storemon generate --out data --bad-rows

# time load and report on a generated data set (14,000 stores x 1 week by default)
bench stores="14000":
    test -f data/bench/{{stores}}/store_status.csv || {{bin}}/storemon generate --out data/bench/{{stores}} --stores {{stores}}
    {{bin}}/storemon ingest --db data/bench/{{stores}}/storemon.duckdb --status data/bench/{{stores}}/store_status.csv --hours data/bench/{{stores}}/menu_hours.csv --timezones data/bench/{{stores}}/timezones.csv
    {{bin}}/storemon report -v --db data/bench/{{stores}}/storemon.duckdb --out data/bench/{{stores}}/report.csv
