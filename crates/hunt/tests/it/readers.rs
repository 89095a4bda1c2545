//! Every reader over real logs: event counts, exact SCO mappings, bad lines, gzip, detection.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use hunt::reader::mapped::Mapping;
use hunt::reader::{Detected, detect};
use hunt::{Event, Format, Reader};
use serde_json::{Value, json};

use crate::support::{collect, data, of_type, read_all, values};

/// The SCOs of an event without their ids (ids differ only where references point).
fn scos_without_ids(e: &Event) -> Vec<Value> {
    e.scos()
        .map(|o| {
            let mut o = o.clone();
            o.remove("id");
            for k in ["src_ref", "dst_ref", "resolves_to_refs"] {
                o.remove(k);
            }
            Value::Object(o)
        })
        .collect()
}

#[test]
fn zeek_tsv_and_json_give_the_same_scos() {
    for log in ["x509", "notice", "smtp"] {
        let (tsv, bad_tsv) = read_all(
            &data(&format!("zeek-wrccdc2018/zeek-default/{log}.log.gz")),
            Format::Auto,
        );
        let (json, bad_json) = read_all(
            &data(&format!("zeek-wrccdc2018/zeek-json/{log}.json.gz")),
            Format::Auto,
        );
        assert!(
            bad_tsv.is_empty() && bad_json.is_empty(),
            "{log}: {bad_tsv:?} {bad_json:?}"
        );
        assert_eq!(tsv.len(), json.len(), "{log}");
        for (a, b) in tsv.iter().zip(&json) {
            assert_eq!(a.time, b.time, "{log} line {}", a.source.line);
            assert_eq!(
                scos_without_ids(a),
                scos_without_ids(b),
                "{log} line {}",
                a.source.line
            );
        }
    }
}

#[test]
fn zeek_tsv_dns() {
    let (events, bad) = read_all(
        &data("zeek-wrccdc2018/zeek-default/dns.log.gz"),
        Format::Zeek,
    );
    assert!(bad.is_empty());
    assert_eq!(events.len(), 53_615);
    let e = &events[0];
    // Line 9: the first record after the 8 header lines.
    assert_eq!(e.source.line, 9);
    assert_eq!(e.time.to_string(), "2018-03-24T17:15:20.865716Z");
    assert_eq!(
        values(e, "domain-name"),
        ["ise.wrccdc.org", "ise.wrccdc.cpp.edu"]
    );
    assert_eq!(
        values(e, "ipv4-addr"),
        ["10.47.1.100", "10.0.0.100", "134.71.3.16"]
    );
    let nt = &of_type(e, "network-traffic")[0];
    assert_eq!(nt["src_port"], 41772);
    assert_eq!(nt["dst_port"], 53);
    assert_eq!(nt["protocols"], json!(["udp", "dns"]));
    let q = &of_type(e, "domain-name")[0];
    assert_eq!(q["resolves_to_refs"].as_array().map(Vec::len), Some(2));
}

#[test]
fn zeek_x509_and_ssl_mapping() {
    let (events, _) = read_all(
        &data("zeek-wrccdc2018/zeek-json/x509.json.gz"),
        Format::Auto,
    );
    let cert = &of_type(&events[0], "x509-certificate")[0];
    assert_eq!(
        cert["hashes"]["SHA-256"],
        "b2dafbcdbc75210672f137f27ce882ccb799887631655d4f11191d5a678e44fe"
    );
    assert_eq!(cert["serial_number"], "CC57FE54011E");
    assert_eq!(cert["issuer"], "O=VMware Installer");
    assert_eq!(cert["validity_not_before"], "2011-09-10T12:15:02Z");
    assert_eq!(values(&events[0], "domain-name"), ["localhost.localdomain"]);

    let (ssl, bad) = read_all(
        &data("slips-ctu/zeek/test10-mixed-zeek-dir/ssl.log"),
        Format::Auto,
    );
    assert!(bad.is_empty());
    assert_eq!(ssl.len(), 13);
    assert_eq!(
        values(&ssl[0], "ipv6-addr"),
        [
            "2001:718:2:1663:dc58:6d9:ef13:51a5",
            "2a00:1450:4014:801::200a"
        ]
    );
    assert_eq!(
        values(&ssl[0], "domain-name"),
        ["addons-pa.clients6.google.com"]
    );
    let cert = &of_type(&ssl[1], "x509-certificate")[0];
    assert_eq!(cert["subject"], "CN=virtual.secai.com");
}

#[test]
fn otrf_variant_every_file() {
    let dir = data("otrf-apt29-zeek/day1");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut total = 0;
    for f in &files {
        let (events, bad) = read_all(f, Format::Auto);
        assert!(bad.is_empty(), "{}: {bad:?}", f.display());
        total += events.len();
    }
    // 2,140 records (PROVENANCE.md).
    assert_eq!(total, 2_140);

    let (http, _) = read_all(&dir.join("SCRANTON_http.log"), Format::Auto);
    assert_eq!(http.len(), 62);
    let e = &http[0];
    assert_eq!(e.time.to_string(), "2020-04-30T00:32:18.09551Z");
    assert_eq!(values(e, "url"), ["http://192.168.0.4/"]);
    assert_eq!(values(e, "ipv4-addr"), ["10.0.1.4", "192.168.0.4"]);
    let nt = &of_type(e, "network-traffic")[0];
    assert_eq!(
        nt["extensions"]["http-request-ext"],
        json!({"request_method": "options", "request_value": "/", "request_version": "http/1.1",
               "request_header": {"Host": "192.168.0.4", "User-Agent": "DavClnt"}})
    );

    let (files_log, _) = read_all(&dir.join("NASHUA_files.log.gz"), Format::Auto);
    let f = &of_type(&files_log[0], "file")[0];
    assert_eq!(f["hashes"]["MD5"], "cc85d7649546d3c0b1607f761b73fec2");
    assert_eq!(
        f["hashes"]["SHA-1"],
        "1a1a10b819f321b91b47d7dd73668406a15992db"
    );
    assert_eq!(f["size"], 22);
    assert_eq!(f["mime_type"], "text/ini");

    let (x509, _) = read_all(&dir.join("NASHUA_x509.log.gz"), Format::Auto);
    let c = &of_type(&x509[0], "x509-certificate")[0];
    assert_eq!(c["serial_number"], "7EFDE1CFECCCDB44");
    assert_eq!(c["validity_not_before"], "2016-08-06T05:45:31Z");

    let (dns, _) = read_all(&dir.join("SCRANTON_dns.log"), Format::Auto);
    assert_eq!(values(&dns[0], "domain-name"), ["newyork.dmevals.local"]);
}

#[test]
fn slips_zeek_dirs() {
    // test10's notice.log line 21 is broken upstream (spaces where tabs belong: 23 fields
    // for 26); it must be reported and the rest read.
    for (dir, records, broken) in [
        (
            "test10-mixed-zeek-dir",
            141 + 93 + 6 + 13 + 2 + 13,
            vec![("notice.log", 21)],
        ),
        (
            "test9-mixed-zeek-dir",
            576 + 239 + 936 + 516 + 18 + 5 + 205 + 154,
            vec![],
        ),
    ] {
        let mut total = 0;
        let mut bad_lines = Vec::new();
        for log in [
            "conn", "dns", "files", "http", "ssl", "x509", "notice", "smtp",
        ] {
            let base = data(&format!("slips-ctu/zeek/{dir}/{log}.log"));
            let path = if base.exists() {
                base
            } else {
                base.with_extension("log.gz")
            };
            if !path.exists() {
                continue;
            }
            let (events, bad) = read_all(&path, Format::Auto);
            total += events.len() + bad.len();
            for b in bad {
                assert!(b.message.contains("expected 26"), "{b}");
                bad_lines.push((format!("{log}.log"), b.source.line));
            }
        }
        assert_eq!(total, records, "{dir}");
        let broken: Vec<(String, u64)> =
            broken.into_iter().map(|(f, l)| (f.to_owned(), l)).collect();
        assert_eq!(bad_lines, broken, "{dir}");
    }
    let (smtp, _) = read_all(
        &data("slips-ctu/zeek/test9-mixed-zeek-dir/smtp.log"),
        Format::Auto,
    );
    assert!(smtp.iter().any(|e| !values(e, "email-addr").is_empty()));
}

#[test]
fn suricata_eve() {
    let (events, bad) = read_all(
        &data("slips-ctu/suricata/test6-malicious.suricata.json.gz"),
        Format::Auto,
    );
    assert!(bad.is_empty());
    assert_eq!(events.len(), 5_000);
    let alert = &events[0];
    assert_eq!(alert.time.to_string(), "2021-06-06T13:59:46.457984Z");
    assert_eq!(
        of_type(alert, "x-suricata-alert")[0]["signature"],
        "ET CINS Active Threat Intelligence Poor Reputation IP group 89"
    );
    assert_eq!(
        values(alert, "ipv4-addr"),
        ["78.36.196.213", "192.168.1.129"]
    );
    let nt = &of_type(alert, "network-traffic")[0];
    assert_eq!(
        (nt["src_port"].clone(), nt["dst_port"].clone()),
        (json!(51698), json!(445))
    );

    let by_line = |line: u64| events.iter().find(|e| e.source.line == line).unwrap();
    let raw: Vec<String> = {
        let mut out = Vec::new();
        let r = hunt::input::open(&data("slips-ctu/suricata/test6-malicious.suricata.json.gz"))
            .unwrap();
        for l in std::io::BufRead::lines(r) {
            out.push(l.unwrap());
        }
        out
    };
    let first_of = |t: &str| {
        raw.iter()
            .position(|l| l.contains(&format!("\"event_type\":\"{t}\"")))
            .map(|i| i as u64 + 1)
            .unwrap()
    };
    let dns = by_line(first_of("dns"));
    assert_eq!(values(dns, "domain-name"), ["www.google.com"]);
    let tls = by_line(first_of("tls"));
    assert_eq!(values(tls, "domain-name"), ["www.myedimax.com"]);
    assert_eq!(
        of_type(tls, "x-ja3")[0]["value"],
        "b7202231ff2db28363c109cedc6d1642"
    );
    let cert = &of_type(tls, "x509-certificate")[0];
    assert_eq!(
        cert["hashes"]["SHA-1"],
        "2dd19f809986fcac5f2a2afda3f37e967cdd2437"
    );
    assert_eq!(cert["serial_number"], "17:8E:1E:D7:BD:75:EF:CD:3D:8F:FF:D3");
    let http = by_line(first_of("http"));
    assert_eq!(values(http, "url"), ["http://147.32.82.197/"]);
    let fi = by_line(first_of("fileinfo"));
    assert_eq!(of_type(fi, "file")[0]["name"], "/");
    assert_eq!(of_type(fi, "file")[0]["size"], 47);
}

#[test]
fn malformed_lines_are_reported_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dns.log");
    let good = r#"{"_path":"dns","ts":1521911720.5,"id.orig_h":"10.0.0.1","id.orig_p":1,"id.resp_h":"10.0.0.2","id.resp_p":53,"proto":"udp","query":"a.example"}"#;
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{good}").unwrap();
    writeln!(f, "{{not json").unwrap();
    writeln!(f).unwrap();
    writeln!(f, r#"{{"_path":"dns","ts":"yesterday"}}"#).unwrap();
    f.write_all(b"\xff\xfe\n").unwrap();
    writeln!(f, "{good}").unwrap();
    drop(f);
    let (events, bad) = read_all(&path, Format::Auto);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].source.line, 6);
    let lines: Vec<u64> = bad.iter().map(|b| b.source.line).collect();
    assert_eq!(lines, [2, 4, 5]);
    let shown = bad[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:2: invalid JSON", path.display())),
        "{shown}"
    );

    // TSV: a record with the wrong number of fields, and data before any header.
    let tsv = dir.path().join("conn.log");
    std::fs::write(
        &tsv,
        "1.0\tx\n#separator \\x09\n#fields\tts\tid.orig_h\n#types\ttime\taddr\n1.5\t10.1.1.1\n2.0\n3.0\t10.1.1.2\n#close\t2020\n",
    )
    .unwrap();
    let (events, bad) = read_all(&tsv, Format::Zeek);
    assert_eq!(events.len(), 2);
    assert_eq!(
        bad.iter().map(|b| b.source.line).collect::<Vec<_>>(),
        [1, 6]
    );
}

#[test]
fn gzip_is_told_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let src = data("otrf-apt29-zeek/day1/SCRANTON_dns.log");
    let plain = std::fs::read(&src).unwrap();
    // Compressed under a plain name, plain under a .gz name.
    let gz_named_log = dir.path().join("dns.log");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    std::fs::write(&gz_named_log, enc.finish().unwrap()).unwrap();
    let plain_named_gz = dir.path().join("dns.log.gz");
    std::fs::write(&plain_named_gz, &plain).unwrap();
    let (a, _) = read_all(&gz_named_log, Format::Auto);
    let (b, _) = read_all(&plain_named_gz, Format::Auto);
    assert_eq!(a.len(), 32);
    assert_eq!(b.len(), 32);
}

#[test]
fn auto_detection() {
    let first_line = |p: &Path| {
        let r = hunt::input::open(p).unwrap();
        std::io::BufRead::lines(r).next().unwrap().unwrap()
    };
    let cases = [
        ("zeek-wrccdc2018/zeek-default/dns.log.gz", Detected::ZeekTsv),
        ("zeek-wrccdc2018/zeek-json/dns.json.gz", Detected::ZeekJson),
        ("otrf-apt29-zeek/day1/SCRANTON_dns.log", Detected::ZeekJson),
        (
            "slips-ctu/zeek/test9-mixed-zeek-dir/dns.log.gz",
            Detected::ZeekJson,
        ),
        (
            "slips-ctu/suricata/test6-malicious.suricata.json.gz",
            Detected::Eve,
        ),
    ];
    for (p, want) in cases {
        assert_eq!(detect(&first_line(&data(p))), want, "{p}");
    }
    assert_eq!(
        detect(r#"{"type":"bundle","id":"bundle--x","objects":[]}"#),
        Detected::Stix
    );
    assert_eq!(detect(r#"{"when":1,"src":"1.2.3.4"}"#), Detected::Unknown);
    // Unknown content without a mapping is an error for the input, not a panic.
    let r = Reader::new(
        "x.json",
        hunt::input::from_reader(Box::new(&b"{\"a\":1}\n"[..])).unwrap(),
        Format::Auto,
        None,
    );
    let mut r = r;
    assert!(matches!(
        r.next_item(),
        Err(hunt::Error::UnknownFormat { .. })
    ));
}

#[test]
fn stix_observed_data_from_the_generator() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(
            Path::new(&std::env::var("ENTENTE_SHARED").unwrap_or_else(|_| "/work/shared".into()))
                .join("bench/pattern_bench_gen.py"),
        )
        .args([
            "--indicators",
            "50",
            "--events",
            "300",
            "--seed",
            "7",
            "--out",
        ])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let (events, bad) = read_all(&dir.path().join("observations.ndjson"), Format::Auto);
    assert!(bad.is_empty(), "{bad:?}");
    assert_eq!(events.len(), 300);
    assert!(events.iter().all(|e| e.scos().count() > 0));
    assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
}

#[test]
fn mapped_ndjson() {
    let mapping = Mapping::parse(
        r#"{"time": "when", "fields": {"src": "ipv4-addr:value", "q.name": "domain-name:value",
            "sha": "file:hashes.'SHA-256'", "fname": "file:name"}}"#,
    )
    .unwrap();
    let input = br#"{"when": "2024-01-02T03:04:05Z", "src": "2001:db8::1", "q": {"name": "Evil.Example."}, "sha": "aa", "fname": "x.exe"}
{"when": 1700000000.25, "src": ["10.0.0.1", "10.0.0.2"]}
{"src": "10.0.0.3"}
"#;
    let r = Reader::new(
        "gen.ndjson",
        hunt::input::from_reader(Box::new(&input[..])).unwrap(),
        Format::Ndjson,
        Some(Arc::new(mapping)),
    );
    let (events, bad) = collect(r);
    assert_eq!(events.len(), 2);
    assert_eq!(values(&events[0], "ipv6-addr"), ["2001:db8::1"]);
    assert_eq!(values(&events[0], "domain-name"), ["evil.example"]);
    let f = &of_type(&events[0], "file")[0];
    assert_eq!(f["hashes"]["SHA-256"], "aa");
    assert_eq!(f["name"], "x.exe");
    assert_eq!(events[1].time.to_string(), "2023-11-14T22:13:20.25Z");
    assert_eq!(values(&events[1], "ipv4-addr"), ["10.0.0.1", "10.0.0.2"]);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].source.line, 3);
    assert!(Mapping::parse(r#"{"time":"t","fields":{"a":"nocolon"}}"#).is_err());
}
