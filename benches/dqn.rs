//! Update / acting / end-to-end speed of the DQN learner.
//!
//! `cargo bench --bench dqn -- [--input 64] [--actions 200] [--hidden 256,256] [--batch 128]
//!  [--device cpu|flex|wgpu] [--seconds 5] [--updates N] [--per] [--dueling]
//!  [--e2e STEPS] [--act ITERS]`
//!
//! The defaults are the reference network: 64 inputs, 200 actions, two hidden layers
//! of 256, batch 128, Double DQN, Huber loss, Adam, on liveq's own CPU kernels (`cpu`).

use liveq::agent::dqn::bench::{
    BenchOptions, act_benchmark, end_to_end_benchmark, update_benchmark,
};

fn main() {
    let mut o = BenchOptions::default();
    let mut e2e: Option<u64> = None;
    let mut act: Option<usize> = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    let val = |i: usize| -> &str {
        args.get(i + 1).map(String::as_str).unwrap_or_else(|| {
            eprintln!("missing value for {}", args[i]);
            std::process::exit(2)
        })
    };
    while i < args.len() {
        match args[i].as_str() {
            "--input" => o.input_dim = val(i).parse().expect("--input"),
            "--actions" => o.num_actions = val(i).parse().expect("--actions"),
            "--hidden" => {
                o.hidden = val(i)
                    .split(',')
                    .map(|x| x.parse().expect("--hidden"))
                    .collect()
            }
            "--batch" => o.batch = val(i).parse().expect("--batch"),
            "--device" => o.device = val(i).parse().unwrap_or_else(|e| panic!("{e}")),
            "--seconds" => o.seconds = val(i).parse().expect("--seconds"),
            "--updates" => o.max_updates = val(i).parse().expect("--updates"),
            "--e2e" => e2e = Some(val(i).parse().expect("--e2e")),
            "--act" => act = Some(val(i).parse().expect("--act")),
            "--per" => {
                o.prioritized = true;
                i -= 1;
            }
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => i -= 1,
            "--dueling" => {
                o.dueling = true;
                i -= 1;
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    println!(
        "config: input {} actions {} hidden {:?} batch {} device {} per {} dueling {}",
        o.input_dim, o.num_actions, o.hidden, o.batch, o.device, o.prioritized, o.dueling
    );
    if let Some(n) = act {
        match act_benchmark(&o, n) {
            Ok(us) => println!("act: {us:.2} us per greedy action (CPU copy)"),
            Err(e) => eprintln!("act benchmark failed: {e}"),
        }
    }
    if o.seconds > 0.0 && o.max_updates > 0 {
        match update_benchmark(&o) {
            Ok(r) => println!(
                "updates: {:.1} updates/s ({:.3} ms/update, {} updates in {:.2} s, warm-up {:.2} s) on {}",
                r.updates_per_second,
                r.ms_per_update,
                r.updates,
                r.seconds,
                r.warmup_seconds,
                r.device
            ),
            Err(e) => {
                eprintln!("update benchmark failed: {e}");
                std::process::exit(1);
            }
        }
    }
    if let Some(steps) = e2e {
        match end_to_end_benchmark(&o, steps) {
            Ok((sps, updates)) => {
                println!("end-to-end: {sps:.0} env steps/s ({steps} steps, {updates} updates)")
            }
            Err(e) => eprintln!("end-to-end benchmark failed: {e}"),
        }
    }
}
