fn main() {
    let path = std::env::args().nth(1).unwrap();
    let data = std::fs::read(&path).unwrap();
    let ours = easel_resizer::image::decode_full(&data, &easel_fuzz::LIMITS).0.map(|i| i.to_rgb8());
    match &ours { Ok(o) => { println!("ours {:?}", o.dimensions()); std::fs::write("/tmp/dump.ours", o.as_raw()).unwrap(); } Err(e) => println!("ours err {e:?}") }
    match image::load_from_memory_with_format(&data, image::ImageFormat::Jpeg).map(|i| i.to_rgb8()) { Ok(z) => { println!("zune {:?}", z.dimensions()); std::fs::write("/tmp/dump.zune", z.as_raw()).unwrap(); } Err(e) => println!("zune err {e}") }
}
