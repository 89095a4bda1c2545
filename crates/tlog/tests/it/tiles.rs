//! tlog-tiles: index encoding, paths, the tiles of a tree size (the C2SP example), tile
//! contents from the hash store, and entry bundles.

use tlog::tiles::{
    TileKind, decode_entry_bundle, decode_index, encode_entry_bundle, encode_index,
    parse_tile_path, tile_data, tile_hashes,
};
use tlog::tree::range_hash;
use tlog::{Error, MemoryStore, Tile, leaf_hash};

#[test]
fn index_encoding() {
    for (n, s) in [
        (0u64, "000"),
        (1, "001"),
        (67, "067"),
        (999, "999"),
        (1000, "x001/000"),
        (1234067, "x001/x234/067"),
        (123456078, "x123/x456/078"),
        (3057500, "x003/x057/500"),
        (u64::MAX, "x018/x446/x744/x073/x709/x551/615"),
    ] {
        assert_eq!(encode_index(n), s);
        assert_eq!(decode_index(s).unwrap(), n);
    }
    for bad in [
        "",
        "1",
        "01",
        "0001",
        "x000/001",
        "123/456",
        "x12/345",
        "x123/45",
        "x123",
        "x123/",
        "/123",
        "x1234/567",
        "x018/x446/x744/x073/x709/x551/616",
        "0x1",
        "-01",
        "x-01/000",
    ] {
        assert!(decode_index(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn tile_paths() {
    let cases = [
        ("tile/0/001", TileKind::Hashes, 0u8, 1u64, 256u16),
        ("tile/0/001.p/5", TileKind::Hashes, 0, 1, 5),
        ("tile/3/x123/x456/078", TileKind::Hashes, 3, 123456078, 256),
        (
            "tile/63/x123/x456/078.p/255",
            TileKind::Hashes,
            63,
            123456078,
            255,
        ),
        (
            "tile/entries/x001/x234/067",
            TileKind::Entries,
            0,
            1234067,
            256,
        ),
        ("tile/entries/000.p/1", TileKind::Entries, 0, 0, 1),
    ];
    for (path, kind, level, index, width) in cases {
        let (k, t) = parse_tile_path(path).unwrap();
        assert_eq!(
            (k, t),
            (
                kind,
                Tile {
                    level,
                    index,
                    width
                }
            ),
            "{path}"
        );
        let printed = match k {
            TileKind::Hashes => t.path(),
            TileKind::Entries => t.entries_path(),
        };
        assert_eq!(printed, path);
    }
    for bad in [
        "tile/64/000",
        "tile/01/000",
        "tile/-1/000",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/05",
        "tile/0/000.p/",
        "tile/0/000.p/5/6",
        "tile//000",
        "tile/0/",
        "tile/0/123/456/078",
        "tiles/0/000",
        "/tile/0/000",
        "tile/data/000",
        "tile/entries/000.p/x",
        "tile/0",
    ] {
        assert!(
            matches!(parse_tile_path(bad), Err(Error::MalformedTilePath(_))),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn tiles_of_a_tree_size_c2sp_example() {
    // C2SP tlog-tiles "Partial Tiles": a tree of size 70,000 has 273 full level-0 tiles, a
    // partial level-0 tile of width 112, one full level-1 tile, a partial level-1 tile of
    // width 17, and a partial level-2 tile of width 1.
    let l0: Vec<Tile> = Tile::all_in_tree(0, 70_000).collect();
    assert_eq!(l0.len(), 274);
    assert_eq!(l0.iter().filter(|t| t.is_full()).count(), 273);
    assert_eq!(l0.last().unwrap().width, 112);
    let l1: Vec<Tile> = Tile::all_in_tree(1, 70_000).collect();
    assert_eq!(l1.iter().map(|t| t.width).collect::<Vec<_>>(), [256, 17]);
    let l2: Vec<Tile> = Tile::all_in_tree(2, 70_000).collect();
    assert_eq!(
        l2,
        [Tile {
            level: 2,
            index: 0,
            width: 1
        }]
    );
    assert_eq!(Tile::all_in_tree(3, 70_000).count(), 0);
    // "a tree of size 256 will be represented by a full level 0 tile and a partial level
    // 1 tile of width 1".
    assert_eq!(
        Tile::all_in_tree(0, 256).collect::<Vec<_>>(),
        [Tile {
            level: 0,
            index: 0,
            width: 256
        }]
    );
    assert_eq!(
        Tile::all_in_tree(1, 256).collect::<Vec<_>>(),
        [Tile {
            level: 1,
            index: 0,
            width: 1
        }]
    );
    assert_eq!(Tile::in_tree(0, 1, 256), None);
    // The largest tree: 2^64 - 1 leaves leave 255 complete subtrees of 2^56 leaves.
    assert_eq!(
        Tile::all_in_tree(7, u64::MAX).collect::<Vec<_>>(),
        [Tile {
            level: 7,
            index: 0,
            width: 255
        }]
    );
    assert_eq!(Tile::all_in_tree(8, u64::MAX).count(), 0);

    let partial = Tile {
        level: 0,
        index: 273,
        width: 112,
    };
    partial.check_in_tree(70_000).unwrap();
    assert!(partial.check_in_tree(70_001).is_err());
    assert!(
        Tile {
            width: 256,
            ..partial
        }
        .check_in_tree(70_000)
        .is_err()
    );
    // The full tile 273 exists from size 274 × 256 on, and forever after.
    let full = Tile {
        width: 256,
        ..partial
    };
    assert!(full.check_in_tree(274 * 256 - 1).is_err());
    full.check_in_tree(274 * 256).unwrap();
    full.check_in_tree(u64::MAX).unwrap();

    // Within: the tile or a narrower one of the same place, in this tree or a larger one.
    partial.check_within(70_000).unwrap();
    partial.check_within(70_001).unwrap();
    partial.check_within(u64::MAX).unwrap();
    assert!(partial.check_within(69_999).is_err(), "one entry short");
    assert!(full.check_within(70_000).is_err());
    assert!(
        Tile {
            width: 0,
            ..partial
        }
        .check_within(70_000)
        .is_err()
    );
}

#[test]
fn tile_contents_come_from_the_store() {
    let mut store = MemoryStore::new();
    let entries: Vec<Vec<u8>> = (0..70_000u32).map(|i| i.to_be_bytes().to_vec()).collect();
    for e in &entries {
        store.push(e);
    }
    // Level 0: leaf hashes.
    let t = Tile {
        level: 0,
        index: 3,
        width: 256,
    };
    let hashes = tile_hashes(&tile_data(&store, &t).unwrap(), 256).unwrap();
    for (i, h) in hashes.iter().enumerate() {
        assert_eq!(*h, leaf_hash(&entries[3 * 256 + i]));
    }
    // Level 1: hash i is the tree head of the full level-0 tile i.
    let t = Tile {
        level: 1,
        index: 1,
        width: 17,
    };
    let hashes = tile_hashes(&tile_data(&store, &t).unwrap(), 17).unwrap();
    for (i, h) in hashes.iter().enumerate() {
        let start = (256 + i as u64) * 256;
        assert_eq!(*h, range_hash(&store, start, start + 256).unwrap());
    }
    // Level 2 partial: the head of the first 65,536 leaves.
    let t = Tile {
        level: 2,
        index: 0,
        width: 1,
    };
    assert_eq!(
        tile_data(&store, &t).unwrap(),
        range_hash(&store, 0, 65_536).unwrap()
    );
    // A tile beyond the tree is a missing node, not a panic.
    assert!(
        tile_data(
            &store,
            &Tile {
                level: 2,
                index: 0,
                width: 2
            }
        )
        .is_err()
    );
    assert!(
        tile_data(
            &store,
            &Tile {
                level: 9,
                index: 0,
                width: 1
            }
        )
        .is_err()
    );
    assert!(tile_hashes(&[0; 33], 1).is_err());
}

#[test]
fn entry_bundles() {
    let entries: Vec<Vec<u8>> = vec![b"".to_vec(), b"a".to_vec(), vec![7; 65535]];
    let bundle = encode_entry_bundle(entries.iter().map(Vec::as_slice)).unwrap();
    assert_eq!(&bundle[..5], &[0, 0, 0, 1, b'a']);
    let back = decode_entry_bundle(&bundle).unwrap();
    assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let too_big = vec![0u8; 65536];
    assert!(matches!(
        encode_entry_bundle([too_big.as_slice()]),
        Err(Error::EntryTooLarge(65536))
    ));
    assert!(decode_entry_bundle(&[0]).is_err());
    assert!(decode_entry_bundle(&[0, 2, 1]).is_err());
    assert!(decode_entry_bundle(&[]).unwrap().is_empty());
    let t = Tile {
        level: 0,
        index: 2,
        width: 17,
    };
    assert_eq!(t.entry_range(), (512, 529));
}
