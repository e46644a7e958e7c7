//! Writes the labelled synthetic data set to `monitor/data/synthetic.csv`.

fn main() -> std::io::Result<()> {
    let series = nest_monitor::synthetic::generate(
        nest_monitor::synthetic::SEED,
        nest_monitor::synthetic::ANOMALOUS_SERIES,
        nest_monitor::synthetic::CLEAN_SERIES,
    );
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/synthetic.csv");
    std::fs::write(&path, nest_monitor::synthetic::to_csv(&series))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
