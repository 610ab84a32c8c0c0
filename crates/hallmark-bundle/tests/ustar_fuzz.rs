//! Mutation fuzzing of the ustar reader: any flipped, truncated or extended archive is read
//! or refused with a message, never a panic, a hang or an allocation the limit does not allow.
//! `HALLMARK_FUZZ_CASES` sets the number of cases (default 2000).

use hallmark_bundle::ustar;
use proptest::prelude::*;

fn sample() -> Vec<u8> {
    let mut w = ustar::Writer::new(Vec::new());
    for (name, data) in [("manifest.json", &b"{\"format\":\"hallmark-bundle\"}"[..]), ("manifest.sig", b"{}"), ("photos/ab.jpg", &[0xffu8; 1500][..])]
    {
        w.append(name, data.len() as u64, &mut &data[..]).unwrap();
    }
    w.finish().unwrap()
}

fn cases() -> u32 {
    std::env::var("HALLMARK_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn mutated_archives_never_panic(flips in proptest::collection::vec((0usize..4096, any::<u8>()), 1..8), cut in 0usize..5000, tail in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = sample();
        for (at, x) in flips {
            let n = bytes.len();
            bytes[at % n] ^= x | 1;
        }
        bytes.truncate(cut.max(1));
        bytes.extend(tail);
        let _ = ustar::read_all(&mut bytes.as_slice(), 1 << 16);
    }

    #[test]
    fn every_written_archive_reads_back(entries in proptest::collection::vec(("[a-z]{1,20}(/[a-z0-9]{1,20})?", proptest::collection::vec(any::<u8>(), 0..1200)), 0..6)) {
        let mut w = ustar::Writer::new(Vec::new());
        for (name, data) in &entries {
            w.append(name, data.len() as u64, &mut data.as_slice()).unwrap();
        }
        let bytes = w.finish().unwrap();
        let back = ustar::read_all(&mut bytes.as_slice(), 1 << 20).unwrap();
        prop_assert_eq!(back, entries);
    }
}
