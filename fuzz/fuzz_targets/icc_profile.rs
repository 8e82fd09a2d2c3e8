#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| easel_fuzz::icc_profile(data));
