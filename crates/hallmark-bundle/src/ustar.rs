//! A strict POSIX ustar reader and writer, exactly as much tar as a bundle needs.
//!
//! The writer makes regular files only (mode 0644, uid/gid 0, mtime 0), so identical content
//! makes an identical archive and any `tar -tvf` lists it. The reader accepts what the writer
//! makes and refuses the rest: a bad checksum, a non-ustar header, a link or device entry,
//! non-zero padding. Pure over `Read`/`Write`: no file system, no clock.

use std::io::{self, Read, Write};

pub const BLOCK: usize = 512;

/// Writes entries one after another, then the end-of-archive marker.
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    pub fn new(out: W) -> Writer<W> {
        Writer { out }
    }

    /// Appends one regular file of exactly `size` bytes read from `data`.
    pub fn append(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        self.out.write_all(&header(name, size)?)?;
        let copied = io::copy(&mut data.take(size), &mut self.out)?;
        if copied != size {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name} is shorter than {size} bytes")));
        }
        self.out.write_all(&[0u8; BLOCK][..padding(size)])
    }

    /// Writes the end-of-archive marker (two zero blocks) and hands back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_all(&[0u8; 2 * BLOCK])?;
        Ok(self.out)
    }
}

fn padding(size: u64) -> usize {
    ((BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64) as usize
}

/// The header block of a regular file. Names are short ASCII paths (< 100 bytes).
pub fn header(name: &str, size: u64) -> io::Result<[u8; BLOCK]> {
    if name.len() >= 100 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("entry name '{name}' is longer than 99 bytes")));
    }
    if size >= 1 << 33 {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("entry '{name}' is {size} bytes, more than ustar's 8 GiB")));
    }
    let mut h = [0u8; BLOCK];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |h: &mut [u8; BLOCK], at: usize, width: usize, v: u64| {
        let s = format!("{v:0w$o}", w = width - 1);
        h[at..at + width - 1].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, 0o644);
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, size);
    octal(&mut h, 136, 12, 0);
    h[156] = b'0';
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| b as u32).sum();
    let s = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(s.as_bytes());
    Ok(h)
}

/// One entry header read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub size: u64,
}

/// Reads the next header: `Ok(None)` at the end-of-archive marker. The error says what is
/// wrong with the header, in words fit for "bundle 'F': …".
pub fn read_header(r: &mut impl Read) -> Result<Option<Entry>, String> {
    let mut h = [0u8; BLOCK];
    read_full(r, &mut h).map_err(|e| format!("the file ends inside an entry header ({e})"))?;
    if h.iter().all(|&b| b == 0) {
        return Ok(None);
    }
    let field = |a: usize, b: usize| -> &[u8] {
        let f = &h[a..b];
        let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
        &f[..end]
    };
    let octal = |a: usize, b: usize| -> Option<u64> {
        let t = std::str::from_utf8(field(a, b)).ok()?.trim_matches(' ');
        if t.is_empty() || t.len() > 11 {
            return None;
        }
        u64::from_str_radix(t, 8).ok()
    };
    let stored_sum = octal(148, 156).ok_or("an entry header has no checksum")?;
    let sum: u64 = h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u64 }).sum();
    if sum != stored_sum {
        return Err("an entry header fails its checksum".into());
    }
    if &h[257..262] != b"ustar" {
        return Err("an entry is not in ustar form".into());
    }
    let mut name = String::from_utf8_lossy(field(0, 100)).into_owned();
    let prefix = field(345, 500);
    if !prefix.is_empty() {
        name = format!("{}/{name}", String::from_utf8_lossy(prefix));
    }
    if h[156] != b'0' && h[156] != 0 {
        return Err(format!("entry '{name}' is not a plain file (type '{}'; refused)", h[156] as char));
    }
    let size = octal(124, 136).ok_or_else(|| format!("entry '{name}' has no readable size"))?;
    Ok(Some(Entry { name, size }))
}

/// Fills `buf` or fails with `UnexpectedEof`.
pub fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "unexpected end of file")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads the zero padding after an entry of `size` bytes; refuses non-zero padding.
pub fn skip_padding(r: &mut impl Read, size: u64) -> io::Result<()> {
    let mut b = [0u8; BLOCK];
    let pad = padding(size);
    read_full(r, &mut b[..pad])?;
    if b.iter().any(|&x| x != 0) {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "padding after an entry is not zero (the file was altered)"));
    }
    Ok(())
}

/// Reads a whole archive into (name, bytes) pairs: for tests and small archives. Entries over
/// `max_entry` bytes are refused before anything is allocated for them.
pub fn read_all(r: &mut impl Read, max_entry: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut out = Vec::new();
    while let Some(e) = read_header(r)? {
        if e.size > max_entry {
            return Err(format!("entry '{}' declares {} bytes, more than the {max_entry} allowed", e.name, e.size));
        }
        let mut buf = vec![0u8; e.size as usize];
        read_full(r, &mut buf).and_then(|_| skip_padding(r, e.size)).map_err(|err| format!("entry '{}' is cut short ({err})", e.name))?;
        out.push((e.name, buf));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new());
        for (name, data) in entries {
            w.append(name, data.len() as u64, &mut &data[..]).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn what_is_written_reads_back() {
        let entries: [(&str, &[u8]); 4] = [("manifest.json", b"{}"), ("empty", b""), ("block", &[7u8; 512]), ("photos/ab.jpg", &[1u8; 1000])];
        let bytes = archive(&entries);
        assert_eq!(bytes.len() % BLOCK, 0);
        let back = read_all(&mut bytes.as_slice(), 1 << 20).unwrap();
        assert_eq!(back.len(), 4);
        for ((n, d), (bn, bd)) in entries.iter().zip(&back) {
            assert_eq!((*n, *d), (bn.as_str(), bd.as_slice()));
        }
    }

    #[test]
    fn identical_content_makes_identical_archives() {
        assert_eq!(archive(&[("a", b"x")]), archive(&[("a", b"x")]));
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let good = archive(&[("a.txt", b"hello")]);
        let mut bad_sum = good.clone();
        bad_sum[0] = b'b';
        let resum = |mut h: Vec<u8>| {
            let sum: u32 = h[..BLOCK].iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { b as u32 }).sum();
            h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            h
        };
        let mut link = good.clone();
        link[156] = b'2';
        let link = resum(link);
        let mut not_ustar = good.clone();
        not_ustar[257] = b'x';
        let not_ustar = resum(not_ustar);
        let mut padded = good.clone();
        padded[BLOCK + 100] = 1;
        let cases: [(&str, Vec<u8>, &str); 5] = [
            ("checksum", bad_sum, "an entry header fails its checksum"),
            ("link", link, "entry 'a.txt' is not a plain file (type '2'; refused)"),
            ("not ustar", not_ustar, "an entry is not in ustar form"),
            ("padding", padded, "entry 'a.txt' is cut short (padding after an entry is not zero (the file was altered))"),
            ("truncated", good[..700].to_vec(), "entry 'a.txt' is cut short (unexpected end of file)"),
        ];
        for (what, bytes, message) in cases {
            assert_eq!(read_all(&mut bytes.as_slice(), 1 << 20).unwrap_err(), message, "{what}");
        }
    }

    #[test]
    fn names_of_100_bytes_are_refused_by_the_writer() {
        assert!(header(&"a".repeat(100), 1).is_err());
        assert!(header(&"a".repeat(99), 1).is_ok());
    }
}
