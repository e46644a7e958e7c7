# Shared environment for the project's scripts (sourced, not run).
# Cargo builds into a target folder outside the clone so every clone and CI run reuses it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${NEST_CACHE_DIR:-$HOME/.cache/nest}/target}"
export PATH="$NEST_ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin:$NEST_ROOT/node_modules/@foundry-rs/anvil-linux-amd64/bin:$NEST_ROOT/node_modules/@foundry-rs/cast-linux-amd64/bin:$PATH"
export FOUNDRY_SOLC="$NEST_ROOT/tools/solc"
