//! Prints how long scoring and aggregation take (run by hand: `cargo bench -p hallmark-core`).
//! Not a timed test: it reports figures, it asserts nothing about them.

use std::hint::black_box;
use std::time::Instant;

use hallmark_core::aggregate::aggregate;
use hallmark_core::observation;
use hallmark_core::rubric::Rubric;
use hallmark_core::score::score;

fn per_call(name: &str, iterations: u32, mut f: impl FnMut()) {
    for _ in 0..iterations / 10 {
        f();
    }
    let mut samples = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..iterations {
            f();
        }
        samples.push(start.elapsed().as_secs_f64() / f64::from(iterations));
    }
    samples.sort_by(f64::total_cmp);
    println!("{name:<48} median {:>8.1} µs   (min {:.1} µs, {iterations} calls x 5)", samples[2] * 1e6, samples[0] * 1e6);
}

fn main() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}")).unwrap();
    let jiangsu = Rubric::load("jiangsu", &read("rubrics/jiangsu-15min.toml")).unwrap();
    let liaoning = Rubric::load("liaoning", &read("rubrics/liaoning-demo-window.toml")).unwrap();
    let j_text = read("examples/jiangsu-complete.json");
    let l_text = read("examples/liaoning-complete.json");
    let j_obs = observation::parse("j", &j_text, &jiangsu).unwrap();
    let l_obs = observation::parse("l", &l_text, &liaoning).unwrap();
    let panel: Vec<_> = (1..=5)
        .map(|i| {
            let t = read(&format!("examples/liaoning-panel/a{i}.json"));
            score(&liaoning, &observation::parse("p", &t, &liaoning).unwrap())
        })
        .collect();

    println!("hallmark-core scoring benchmark (goal: < 1 ms each)");
    per_call("score complete Jiangsu inspection (32 items)", 2000, || {
        black_box(score(&jiangsu, black_box(&j_obs)));
    });
    per_call("score complete Liaoning inspection (19 items)", 2000, || {
        black_box(score(&liaoning, black_box(&l_obs)));
    });
    per_call("aggregate 5 Liaoning sheets", 2000, || {
        black_box(aggregate(&liaoning, black_box(&panel)).unwrap());
    });
    per_call("parse + score Jiangsu observation file", 1000, || {
        let o = observation::parse("j", black_box(&j_text), &jiangsu).unwrap();
        black_box(score(&jiangsu, &o));
    });
    per_call("parse + validate Jiangsu rubric", 200, || {
        black_box(Rubric::load("jiangsu", black_box(&read("rubrics/jiangsu-15min.toml"))).unwrap());
    });
}
