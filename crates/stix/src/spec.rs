//! The property tables that drive both typed access and validation.
//!
//! Every STIX 2.1 object type is described once, as data: which properties it has, their
//! kinds, which are required, which object types a reference may point to, which
//! vocabulary a value comes from, which properties contribute to a deterministic SCO id
//! and which pairs of timestamps must be ordered. The tables themselves live in
//! [`crate::types`] (objects) and here (common properties and embedded types); the
//! validator in [`crate::validate`] walks them generically, and the typed views in
//! [`crate::types`] are generated from the same tables, so the two cannot drift apart.

use crate::vocab::{self, Vocab};

/// The four families of STIX objects (STIX 2.1 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// STIX Domain Object (§4).
    Sdo,
    /// STIX Relationship Object (§5).
    Sro,
    /// STIX Cyber-observable Object (§6).
    Sco,
    /// STIX Meta Object: language-content, marking-definition, extension-definition (§7).
    Meta,
}

/// Which object types a reference property may point to.
#[derive(Debug, Clone, Copy)]
pub enum Targets {
    /// Exactly these types.
    Types(&'static [&'static str]),
    /// Any SDO, including custom types that are not known SROs, SCOs or meta objects
    /// (`sighting_of_ref`, §5.2).
    Sdo,
    /// Any SCO, including unknown custom types.
    Sco,
    /// Any SDO or SCO, never an SRO or meta object (relationship endpoints, §5.1).
    SdoOrSco,
    /// SCOs or SROs (observed-data `object_refs`, §4.14).
    ScoOrSro,
    /// Any STIX object except bundles (report/note/opinion/grouping `object_refs`).
    Any,
    /// Any object except a bundle or language-content (language-content `object_ref`, §7.1).
    NotLanguageContent,
}

/// The kind of a single value.
#[derive(Debug, Clone, Copy)]
pub enum Scalar {
    /// A JSON string.
    String,
    /// A JSON boolean.
    Boolean,
    /// A JSON integer within `min..=max` (STIX 2.1 §2.10).
    Integer {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A JSON number within `min..=max` (§2.6).
    Float {
        /// Smallest allowed value.
        min: f64,
        /// Largest allowed value.
        max: f64,
    },
    /// A timestamp string (§2.16).
    Timestamp,
    /// A base64 string (§2.1).
    Binary,
    /// A hexadecimal string with an even number of digits (§2.8).
    Hex,
    /// An identifier `type--UUID` pointing to one of the given types (§2.9).
    Identifier(Targets),
    /// A string from a vocabulary or enumeration (§10).
    Vocab(&'static Vocab),
    /// A hashes dictionary (§2.7).
    Hashes,
    /// A dictionary with free-form values (§2.3).
    Dictionary,
    /// An embedded structured type with its own property table.
    Object(&'static [PropSpec]),
    /// Any JSON value.
    Any,
}

/// A property's kind: one value or a non-empty list of values (§2.12).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A single value.
    One(Scalar),
    /// A list of values.
    List(Scalar),
}

/// One row of a property table.
#[derive(Debug)]
pub struct PropSpec {
    /// The JSON property name.
    pub name: &'static str,
    /// Whether the property is required.
    pub required: bool,
    /// The kind of its value.
    pub kind: Kind,
}

/// A pair of timestamp properties that must be ordered.
#[derive(Debug)]
pub struct Order {
    /// The property that must come first.
    pub earlier: &'static str,
    /// The property that must come later.
    pub later: &'static str,
    /// `true` if the later one must be strictly later, `false` if equal is allowed.
    pub strict: bool,
    /// The diagnostic rule code.
    pub rule: &'static str,
}

/// The table for one object type (or one predefined extension).
#[derive(Debug)]
pub struct TypeSpec {
    /// The `type` value (or extension name).
    pub name: &'static str,
    /// The object family.
    pub category: Category,
    /// The STIX 2.1 section that defines it.
    pub section: &'static str,
    /// Type-specific properties; common properties are in [`common_props`].
    pub props: &'static [PropSpec],
    /// ID contributing properties for deterministic SCO ids (§2.9, per SCO).
    pub id_contributing: &'static [&'static str],
    /// Timestamp orderings that must hold.
    pub order: &'static [Order],
    /// Groups of properties of which at least one must be present.
    pub one_of: &'static [&'static [&'static str]],
}

impl TypeSpec {
    /// Looks a property up in the type's own table, then in the common table.
    pub fn prop(&self, name: &str) -> Option<&'static PropSpec> {
        self.props.iter().find(|p| p.name == name).or_else(|| {
            common_props(self.category, self.name)
                .iter()
                .find(|p| p.name == name)
        })
    }
}

/// Builds a [`Kind`] from the compact table syntax.
macro_rules! kind {
    (string) => {
        $crate::spec::Kind::One($crate::spec::Scalar::String)
    };
    (bool) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Boolean)
    };
    (int) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Integer {
            min: i64::MIN,
            max: i64::MAX,
        })
    };
    (int($min:expr, $max:expr)) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Integer {
            min: $min,
            max: $max,
        })
    };
    (float($min:expr, $max:expr)) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Float {
            min: $min,
            max: $max,
        })
    };
    (ts) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Timestamp)
    };
    (binary) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Binary)
    };
    (hex) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Hex)
    };
    (hashes) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Hashes)
    };
    (dict) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Dictionary)
    };
    (any) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Any)
    };
    (ref_($t:expr)) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Identifier($t))
    };
    (refs($t:expr)) => {
        $crate::spec::Kind::List($crate::spec::Scalar::Identifier($t))
    };
    (vocab($v:expr)) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Vocab(&$v))
    };
    (vocabs($v:expr)) => {
        $crate::spec::Kind::List($crate::spec::Scalar::Vocab(&$v))
    };
    (strings) => {
        $crate::spec::Kind::List($crate::spec::Scalar::String)
    };
    (obj($p:expr)) => {
        $crate::spec::Kind::One($crate::spec::Scalar::Object(&$p))
    };
    (objs($p:expr)) => {
        $crate::spec::Kind::List($crate::spec::Scalar::Object(&$p))
    };
    (kcp) => {
        $crate::spec::Kind::List($crate::spec::Scalar::Object(
            &$crate::spec::KILL_CHAIN_PHASE,
        ))
    };
}
pub(crate) use kind;

/// Picks the JSON name: the explicit literal if given, else the identifier.
macro_rules! prop_name {
    ($p:ident) => {
        stringify!($p)
    };
    ($p:ident $n:literal) => {
        $n
    };
}
pub(crate) use prop_name;

/// Builds one [`PropSpec`] row.
macro_rules! prop {
    (req $p:ident $([$n:literal])? : $k:ident $(($($a:tt)*))?) => {
        $crate::spec::PropSpec { name: $crate::spec::prop_name!($p $($n)?), required: true,
            kind: $crate::spec::kind!($k $(($($a)*))?) }
    };
    (opt $p:ident $([$n:literal])? : $k:ident $(($($a:tt)*))?) => {
        $crate::spec::PropSpec { name: $crate::spec::prop_name!($p $($n)?), required: false,
            kind: $crate::spec::kind!($k $(($($a)*))?) }
    };
}
pub(crate) use prop;

/// Builds a property table.
macro_rules! props {
    ($($r:ident $p:ident $([$n:literal])? : $k:ident $(($($a:tt)*))?),* $(,)?) => {
        [$($crate::spec::prop!($r $p $([$n])? : $k $(($($a)*))?)),*]
    };
}
pub(crate) use props;

// STIX 2.1 §3.2: common properties of SDOs and SROs (and, per §7, of language-content and
// extension-definition, which share them).
static SDO_COMMON: [PropSpec; 14] = props![
    req type_ ["type"]: string,
    req spec_version: string,
    req id: string,
    opt created_by_ref: ref_(Targets::Types(&["identity"])),
    req created: ts,
    req modified: ts,
    opt revoked: bool,
    opt labels: strings,
    opt confidence: int(0, 100),
    opt lang: string,
    opt external_references: objs(EXTERNAL_REFERENCE),
    opt object_marking_refs: refs(Targets::Types(&["marking-definition"])),
    opt granular_markings: objs(GRANULAR_MARKING),
    opt extensions: any,
];

// STIX 2.1 §6.1 (common SCO properties, table in §3.2).
static SCO_COMMON: [PropSpec; 7] = props![
    req type_ ["type"]: string,
    req id: string,
    opt spec_version: string,
    opt object_marking_refs: refs(Targets::Types(&["marking-definition"])),
    opt granular_markings: objs(GRANULAR_MARKING),
    opt defanged: bool,
    opt extensions: any,
];

// STIX 2.1 §7.2.1: marking definitions carry fewer common properties; no `modified`,
// because they cannot be versioned.
static MARKING_COMMON: [PropSpec; 9] = props![
    req type_ ["type"]: string,
    req spec_version: string,
    req id: string,
    opt created_by_ref: ref_(Targets::Types(&["identity"])),
    req created: ts,
    opt external_references: objs(EXTERNAL_REFERENCE),
    opt object_marking_refs: refs(Targets::Types(&["marking-definition"])),
    opt granular_markings: objs(GRANULAR_MARKING),
    opt extensions: any,
];

/// The common-property table that applies to a type.
pub fn common_props(category: Category, type_name: &str) -> &'static [PropSpec] {
    match category {
        Category::Sco => &SCO_COMMON,
        Category::Meta if type_name == "marking-definition" => &MARKING_COMMON,
        _ => &SDO_COMMON,
    }
}

/// STIX 2.1 §2.5 external-reference. The validator relies on this row order.
pub static EXTERNAL_REFERENCE: [PropSpec; 5] = props![
    req source_name: string,
    opt description: string,
    opt url: string,
    opt hashes: hashes,
    opt external_id: string,
];

/// STIX 2.1 §7.2.3 granular-marking.
pub static GRANULAR_MARKING: [PropSpec; 3] = props![
    opt lang: string,
    opt marking_ref: ref_(Targets::Types(&["marking-definition"])),
    req selectors: strings,
];

/// STIX 2.1 §2.11 kill-chain-phase.
pub static KILL_CHAIN_PHASE: [PropSpec; 2] = props![
    req kill_chain_name: string,
    req phase_name: string,
];

/// STIX 2.1 §6.6 email MIME component.
pub static EMAIL_MIME_PART: [PropSpec; 4] = props![
    opt body: string,
    opt body_raw_ref: ref_(Targets::Types(&["artifact", "file"])),
    opt content_type: string,
    opt content_disposition: string,
];

/// STIX 2.1 §6.17 windows-registry-value-type.
pub static WINDOWS_REGISTRY_VALUE: [PropSpec; 3] = props![
    opt name: string,
    opt data: string,
    opt data_type: vocab(vocab::WINDOWS_REGISTRY_DATATYPE),
];

/// STIX 2.1 §6.7.1 alternate data stream.
pub static ALTERNATE_DATA_STREAM: [PropSpec; 3] = props![
    req name: string,
    opt hashes: hashes,
    opt size: int(0, i64::MAX),
];

/// STIX 2.1 §6.7.5 windows-pe-optional-header-type.
pub static PE_OPTIONAL_HEADER: [PropSpec; 31] = props![
    opt magic_hex: hex,
    opt major_linker_version: int,
    opt minor_linker_version: int,
    opt size_of_code: int(0, i64::MAX),
    opt size_of_initialized_data: int(0, i64::MAX),
    opt size_of_uninitialized_data: int(0, i64::MAX),
    opt address_of_entry_point: int,
    opt base_of_code: int,
    opt base_of_data: int,
    opt image_base: int,
    opt section_alignment: int,
    opt file_alignment: int,
    opt major_os_version: int,
    opt minor_os_version: int,
    opt major_image_version: int,
    opt minor_image_version: int,
    opt major_subsystem_version: int,
    opt minor_subsystem_version: int,
    opt win32_version_value_hex: hex,
    opt size_of_image: int(0, i64::MAX),
    opt size_of_headers: int(0, i64::MAX),
    opt checksum_hex: hex,
    opt subsystem_hex: hex,
    opt dll_characteristics_hex: hex,
    opt size_of_stack_reserve: int(0, i64::MAX),
    opt size_of_stack_commit: int(0, i64::MAX),
    opt size_of_heap_reserve: int(0, i64::MAX),
    opt size_of_heap_commit: int(0, i64::MAX),
    opt loader_flags_hex: hex,
    opt number_of_rva_and_sizes: int,
    opt hashes: hashes,
];

/// STIX 2.1 §6.7.5 windows-pe-section-type.
pub static PE_SECTION: [PropSpec; 4] = props![
    req name: string,
    opt size: int(0, i64::MAX),
    opt entropy: float(f64::MIN, f64::MAX),
    opt hashes: hashes,
];

const NON_NEG: i64 = 0;

/// Builds a [`TypeSpec`] for a predefined extension.
macro_rules! ext {
    ($ident:ident, $name:literal, $sec:literal, [$($body:tt)*], one_of [$([$($o:literal),*]),*]) => {
        static $ident: TypeSpec = TypeSpec {
            name: $name,
            category: Category::Sco,
            section: $sec,
            props: &props![$($body)*],
            id_contributing: &[],
            order: &[],
            one_of: &[$(&[$($o),*]),*],
        };
    };
}

ext!(NTFS_EXT, "ntfs-ext", "6.7.2", [
    opt sid: string,
    opt alternate_data_streams: objs(ALTERNATE_DATA_STREAM),
], one_of [["sid", "alternate_data_streams"]]);
ext!(PDF_EXT, "pdf-ext", "6.7.3", [
    opt version: string,
    opt is_optimized: bool,
    opt document_info_dict: dict,
    opt pdfid0: string,
    opt pdfid1: string,
], one_of [["version", "is_optimized", "document_info_dict", "pdfid0", "pdfid1"]]);
ext!(ARCHIVE_EXT, "archive-ext", "6.7.1", [
    req contains_refs: refs(Targets::Types(&["file", "directory"])),
    opt comment: string,
], one_of []);
ext!(RASTER_IMAGE_EXT, "raster-image-ext", "6.7.4", [
    opt image_height: int,
    opt image_width: int,
    opt bits_per_pixel: int,
    opt exif_tags: dict,
], one_of [["image_height", "image_width", "bits_per_pixel", "exif_tags"]]);
ext!(WINDOWS_PEBINARY_EXT, "windows-pebinary-ext", "6.7.5", [
    req pe_type: vocab(vocab::WINDOWS_PEBINARY_TYPE),
    opt imphash: string,
    opt machine_hex: hex,
    opt number_of_sections: int(NON_NEG, i64::MAX),
    opt time_date_stamp: ts,
    opt pointer_to_symbol_table_hex: hex,
    opt number_of_symbols: int(NON_NEG, i64::MAX),
    opt size_of_optional_header: int(NON_NEG, i64::MAX),
    opt characteristics_hex: hex,
    opt file_header_hashes: hashes,
    opt optional_header: obj(PE_OPTIONAL_HEADER),
    opt sections: objs(PE_SECTION),
], one_of []);
ext!(HTTP_REQUEST_EXT, "http-request-ext", "6.12.1", [
    req request_method: string,
    req request_value: string,
    opt request_version: string,
    opt request_header: dict,
    opt message_body_length: int(NON_NEG, i64::MAX),
    opt message_body_data_ref: ref_(Targets::Types(&["artifact"])),
], one_of []);
ext!(ICMP_EXT, "icmp-ext", "6.12.2", [
    req icmp_type_hex: hex,
    req icmp_code_hex: hex,
], one_of []);
ext!(SOCKET_EXT, "socket-ext", "6.12.3", [
    req address_family: vocab(vocab::NETWORK_SOCKET_ADDRESS_FAMILY),
    opt is_blocking: bool,
    opt is_listening: bool,
    opt options: dict,
    opt socket_type: vocab(vocab::NETWORK_SOCKET_TYPE),
    opt socket_descriptor: int(NON_NEG, i64::MAX),
    opt socket_handle: int,
], one_of []);
ext!(TCP_EXT, "tcp-ext", "6.12.4", [
    opt src_flags_hex: hex,
    opt dst_flags_hex: hex,
], one_of [["src_flags_hex", "dst_flags_hex"]]);
ext!(WINDOWS_PROCESS_EXT, "windows-process-ext", "6.13.1", [
    opt aslr_enabled: bool,
    opt dep_enabled: bool,
    opt priority: string,
    opt owner_sid: string,
    opt window_title: string,
    opt startup_info: dict,
    opt integrity_level: vocab(vocab::WINDOWS_INTEGRITY_LEVEL),
], one_of [["aslr_enabled", "dep_enabled", "priority", "owner_sid", "window_title",
    "startup_info", "integrity_level"]]);
ext!(WINDOWS_SERVICE_EXT, "windows-service-ext", "6.13.2", [
    opt service_name: string,
    opt descriptions: strings,
    opt display_name: string,
    opt group_name: string,
    opt start_type: vocab(vocab::WINDOWS_SERVICE_START_TYPE),
    opt service_dll_refs: refs(Targets::Types(&["file"])),
    opt service_type: vocab(vocab::WINDOWS_SERVICE_TYPE),
    opt service_status: vocab(vocab::WINDOWS_SERVICE_STATUS),
], one_of [["service_name", "descriptions", "display_name", "group_name", "start_type",
    "service_dll_refs", "service_type", "service_status"]]);
ext!(UNIX_ACCOUNT_EXT, "unix-account-ext", "6.16.1", [
    opt gid: int,
    opt groups: strings,
    opt home_dir: string,
    opt shell: string,
], one_of [["gid", "groups", "home_dir", "shell"]]);

/// The predefined SCO extensions (STIX 2.1 §6) by the SCO type that may carry them.
pub fn predefined_extension(sco_type: &str, ext_name: &str) -> Option<&'static TypeSpec> {
    let spec = match (sco_type, ext_name) {
        ("file", "ntfs-ext") => &NTFS_EXT,
        ("file", "pdf-ext") => &PDF_EXT,
        ("file", "archive-ext") => &ARCHIVE_EXT,
        ("file", "raster-image-ext") => &RASTER_IMAGE_EXT,
        ("file", "windows-pebinary-ext") => &WINDOWS_PEBINARY_EXT,
        ("network-traffic", "http-request-ext") => &HTTP_REQUEST_EXT,
        ("network-traffic", "icmp-ext") => &ICMP_EXT,
        ("network-traffic", "socket-ext") => &SOCKET_EXT,
        ("network-traffic", "tcp-ext") => &TCP_EXT,
        ("process", "windows-process-ext") => &WINDOWS_PROCESS_EXT,
        ("process", "windows-service-ext") => &WINDOWS_SERVICE_EXT,
        ("user-account", "unix-account-ext") => &UNIX_ACCOUNT_EXT,
        _ => return None,
    };
    Some(spec)
}

/// Whether `name` is a predefined extension name for any SCO type.
pub fn is_predefined_extension_name(name: &str) -> bool {
    ["file", "network-traffic", "process", "user-account"]
        .iter()
        .any(|t| predefined_extension(t, name).is_some())
}
