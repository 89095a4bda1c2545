//! One table per STIX 2.1 object type, and the typed views generated from them.
//!
//! The `stix_types!` invocation below is the single description of every SDO (§4), SRO
//! (§5), SCO (§6) and meta object (§7). From each entry it generates
//! - a `static` [`TypeSpec`] that the validator walks, and
//! - a zero-cost view struct (e.g. [`Indicator`]) with one typed accessor per property,
//!
//! plus the [`StixView`] enum over all of them. Adding a property is one line.

use serde_json::{Map, Value};

use crate::object::StixObject;
use crate::spec::{Category, Order, Targets, TypeSpec};
use crate::timestamp::Timestamp;
use crate::vocab;

/// Generates one typed accessor from the table syntax.
macro_rules! accessor {
    ($p:ident $($n:literal)? ; string) => { accessor!(@str $p $($n)?); };
    ($p:ident $($n:literal)? ; vocab) => { accessor!(@str $p $($n)?); };
    ($p:ident $($n:literal)? ; ref_) => { accessor!(@str $p $($n)?); };
    ($p:ident $($n:literal)? ; binary) => { accessor!(@str $p $($n)?); };
    ($p:ident $($n:literal)? ; hex) => { accessor!(@str $p $($n)?); };
    ($p:ident $($n:literal)? ; strings) => { accessor!(@strs $p $($n)?); };
    ($p:ident $($n:literal)? ; vocabs) => { accessor!(@strs $p $($n)?); };
    ($p:ident $($n:literal)? ; refs) => { accessor!(@strs $p $($n)?); };
    ($p:ident $($n:literal)? ; hashes) => { accessor!(@map $p $($n)?); };
    ($p:ident $($n:literal)? ; dict) => { accessor!(@map $p $($n)?); };
    ($p:ident $($n:literal)? ; obj) => { accessor!(@map $p $($n)?); };
    ($p:ident $($n:literal)? ; objs) => { accessor!(@list $p $($n)?); };
    ($p:ident $($n:literal)? ; kcp) => { accessor!(@list $p $($n)?); };
    ($p:ident $($n:literal)? ; any) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` property.")]
        pub fn $p(&self) -> Option<&'a Value> {
            self.obj.get($crate::spec::prop_name!($p $($n)?))
        }
    };
    ($p:ident $($n:literal)? ; bool) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` property.")]
        pub fn $p(&self) -> Option<bool> {
            self.obj.get($crate::spec::prop_name!($p $($n)?)).and_then(Value::as_bool)
        }
    };
    ($p:ident $($n:literal)? ; int) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` property.")]
        pub fn $p(&self) -> Option<i64> {
            self.obj.get($crate::spec::prop_name!($p $($n)?)).and_then(Value::as_i64)
        }
    };
    ($p:ident $($n:literal)? ; float) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` property.")]
        pub fn $p(&self) -> Option<f64> {
            self.obj.get($crate::spec::prop_name!($p $($n)?)).and_then(Value::as_f64)
        }
    };
    ($p:ident $($n:literal)? ; ts) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?),
            "` property, if it is a valid timestamp.")]
        pub fn $p(&self) -> Option<Timestamp> {
            self.obj.timestamp($crate::spec::prop_name!($p $($n)?))
        }
    };
    (@str $p:ident $($n:literal)?) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` property.")]
        pub fn $p(&self) -> Option<&'a str> {
            self.obj.str_prop($crate::spec::prop_name!($p $($n)?))
        }
    };
    (@strs $p:ident $($n:literal)?) => {
        #[doc = concat!("The string items of the `", $crate::spec::prop_name!($p $($n)?),
            "` list (empty if absent).")]
        pub fn $p(&self) -> impl Iterator<Item = &'a str> + 'a {
            self.obj.str_list($crate::spec::prop_name!($p $($n)?))
        }
    };
    (@map $p:ident $($n:literal)?) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` dictionary.")]
        pub fn $p(&self) -> Option<&'a Map<String, Value>> {
            self.obj.get($crate::spec::prop_name!($p $($n)?)).and_then(Value::as_object)
        }
    };
    (@list $p:ident $($n:literal)?) => {
        #[doc = concat!("The `", $crate::spec::prop_name!($p $($n)?), "` list.")]
        pub fn $p(&self) -> &'a [Value] {
            self.obj
                .get($crate::spec::prop_name!($p $($n)?))
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or(&[])
        }
    };
}

/// Declares every object type: its table, its view struct and the [`StixView`] enum.
macro_rules! stix_types {
    ($(
        $(#[$doc:meta])*
        $view:ident / $spec:ident = $tname:literal, $cat:ident, $sec:literal {
            $($r:ident $p:ident $([$n:literal])? : $k:ident $(($($a:tt)*))?),* $(,)?
        }
        $(ids [$($idp:literal),*])?
        $(order [$(($e:literal, $l:literal, $strict:literal, $rule:literal)),*])?
        $(one_of [$([$($o:literal),*]),*])?
        ;
    )*) => {
        $(
            #[doc = concat!("Property table of `", $tname, "` (STIX 2.1 §", $sec, ").")]
            pub static $spec: TypeSpec = TypeSpec {
                name: $tname,
                category: Category::$cat,
                section: $sec,
                props: &$crate::spec::props![$($r $p $([$n])? : $k $(($($a)*))?),*],
                id_contributing: &[$($($idp),*)?],
                order: &[$($(Order { earlier: $e, later: $l, strict: $strict, rule: $rule }),*)?],
                one_of: &[$($(&[$($o),*]),*)?],
            };

            $(#[$doc])*
            #[doc = ""]
            #[doc = concat!("Typed view of a `", $tname, "` object (STIX 2.1 §", $sec, ").")]
            #[derive(Debug, Clone, Copy)]
            pub struct $view<'a> {
                obj: &'a StixObject,
            }

            impl<'a> $view<'a> {
                /// The object this view reads from, for common properties.
                pub fn object(&self) -> &'a StixObject {
                    self.obj
                }
                $(accessor!($p $($n)? ; $k);)*
            }
        )*

        /// A typed view of a STIX object: one variant per type STIX 2.1 defines.
        #[derive(Debug, Clone, Copy)]
        pub enum StixView<'a> {
            $(
                #[doc = concat!("A `", $tname, "`.")]
                $view($view<'a>),
            )*
            /// A custom or unknown object type.
            Custom(&'a StixObject),
        }

        /// The table for a `type` value, if STIX 2.1 defines it.
        pub fn spec_for(type_name: &str) -> Option<&'static TypeSpec> {
            match type_name {
                $($tname => Some(&$spec),)*
                _ => None,
            }
        }

        /// Every type table, in specification order.
        pub static ALL_TYPES: &[&TypeSpec] = &[$(&$spec),*];

        impl<'a> StixView<'a> {
            /// The object this view reads from.
            pub fn object(&self) -> &'a StixObject {
                match self {
                    $(StixView::$view(v) => v.obj,)*
                    StixView::Custom(o) => o,
                }
            }
        }

        pub(crate) fn view_of(obj: &StixObject) -> StixView<'_> {
            match obj.type_name() {
                $(Some($tname) => StixView::$view($view { obj }),)*
                _ => StixView::Custom(obj),
            }
        }
    };
}

const SDO: Targets = Targets::Sdo;
const ANY: Targets = Targets::Any;
const NON_NEG: i64 = 0;
const MAX_COUNT: i64 = 999_999_999;

stix_types! {
    // ---- §4 STIX Domain Objects ----
    /// Attack Pattern: a TTP describing how adversaries attempt to compromise targets.
    AttackPattern / ATTACK_PATTERN = "attack-pattern", Sdo, "4.1" {
        req name: string,
        opt description: string,
        opt aliases: strings,
        opt kill_chain_phases: kcp,
    };
    /// Campaign: a grouping of adversarial behaviours over a period against targets.
    Campaign / CAMPAIGN = "campaign", Sdo, "4.2" {
        req name: string,
        opt description: string,
        opt aliases: strings,
        opt first_seen: ts,
        opt last_seen: ts,
        opt objective: string,
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];
    /// Course of Action: a recommendation to prevent or respond to an attack.
    CourseOfAction / COURSE_OF_ACTION = "course-of-action", Sdo, "4.3" {
        req name: string,
        opt description: string,
    };
    /// Grouping: a set of objects sharing a context.
    Grouping / GROUPING = "grouping", Sdo, "4.4" {
        opt name: string,
        opt description: string,
        req context: vocab(vocab::GROUPING_CONTEXT),
        req object_refs: refs(ANY),
    };
    /// Identity: an individual, organization or group.
    Identity / IDENTITY = "identity", Sdo, "4.5" {
        req name: string,
        opt description: string,
        opt roles: strings,
        opt identity_class: vocab(vocab::IDENTITY_CLASS),
        opt sectors: vocabs(vocab::INDUSTRY_SECTOR),
        opt contact_information: string,
    };
    /// Incident: a stub object for security incidents.
    Incident / INCIDENT = "incident", Sdo, "4.6" {
        req name: string,
        opt description: string,
        opt kill_chain_phases: kcp,
    };
    /// Indicator: a pattern that can be used to detect suspicious or malicious activity.
    Indicator / INDICATOR = "indicator", Sdo, "4.7" {
        opt name: string,
        opt description: string,
        opt indicator_types: vocabs(vocab::INDICATOR_TYPE),
        req pattern: string,
        req pattern_type: vocab(vocab::PATTERN_TYPE),
        opt pattern_version: string,
        req valid_from: ts,
        opt valid_until: ts,
        opt kill_chain_phases: kcp,
    } order [("valid_from", "valid_until", true, "valid-until-after-valid-from")];
    /// Infrastructure: systems and services supporting an attack or defence.
    Infrastructure / INFRASTRUCTURE = "infrastructure", Sdo, "4.8" {
        req name: string,
        opt description: string,
        opt infrastructure_types: vocabs(vocab::INFRASTRUCTURE_TYPE),
        opt aliases: strings,
        opt kill_chain_phases: kcp,
        opt first_seen: ts,
        opt last_seen: ts,
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];
    /// Intrusion Set: adversarial behaviours and resources believed to share one actor.
    IntrusionSet / INTRUSION_SET = "intrusion-set", Sdo, "4.9" {
        req name: string,
        opt description: string,
        opt aliases: strings,
        opt first_seen: ts,
        opt last_seen: ts,
        opt goals: strings,
        opt resource_level: vocab(vocab::ATTACK_RESOURCE_LEVEL),
        opt primary_motivation: vocab(vocab::ATTACK_MOTIVATION),
        opt secondary_motivations: vocabs(vocab::ATTACK_MOTIVATION),
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];
    /// Location: a geographic location.
    Location / LOCATION = "location", Sdo, "4.10" {
        opt name: string,
        opt description: string,
        opt latitude: float(-90.0, 90.0),
        opt longitude: float(-180.0, 180.0),
        opt precision: float(0.0, f64::MAX),
        opt region: vocab(vocab::REGION),
        opt country: string,
        opt administrative_area: string,
        opt city: string,
        opt street_address: string,
        opt postal_code: string,
    } one_of [["region", "country", "latitude"]];
    /// Malware: a malicious program family or instance.
    Malware / MALWARE = "malware", Sdo, "4.11" {
        opt name: string,
        opt description: string,
        opt malware_types: vocabs(vocab::MALWARE_TYPE),
        req is_family: bool,
        opt aliases: strings,
        opt kill_chain_phases: kcp,
        opt first_seen: ts,
        opt last_seen: ts,
        opt operating_system_refs: refs(Targets::Types(&["software"])),
        opt architecture_execution_envs: vocabs(vocab::PROCESSOR_ARCHITECTURE),
        opt implementation_languages: vocabs(vocab::IMPLEMENTATION_LANGUAGE),
        opt capabilities: vocabs(vocab::MALWARE_CAPABILITIES),
        opt sample_refs: refs(Targets::Types(&["file", "artifact"])),
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];
    /// Malware Analysis: the metadata and results of one analysis of malware.
    MalwareAnalysis / MALWARE_ANALYSIS = "malware-analysis", Sdo, "4.12" {
        req product: string,
        opt version: string,
        opt host_vm_ref: ref_(Targets::Types(&["software"])),
        opt operating_system_ref: ref_(Targets::Types(&["software"])),
        opt installed_software_refs: refs(Targets::Types(&["software"])),
        opt configuration_version: string,
        opt modules: strings,
        opt analysis_engine_version: string,
        opt analysis_definition_version: string,
        opt submitted: ts,
        opt analysis_started: ts,
        opt analysis_ended: ts,
        opt result_name: string,
        opt result: vocab(vocab::MALWARE_RESULT),
        opt analysis_sco_refs: refs(Targets::Sco),
        opt sample_ref: ref_(Targets::Types(&["file", "network-traffic", "artifact"])),
    } one_of [["result", "analysis_sco_refs"]];
    /// Note: analyst text about other objects.
    Note / NOTE = "note", Sdo, "4.13" {
        opt abstract_ ["abstract"]: string,
        req content: string,
        opt authors: strings,
        req object_refs: refs(ANY),
    };
    /// Observed Data: raw cyber observations, summarised.
    ObservedData / OBSERVED_DATA = "observed-data", Sdo, "4.14" {
        req first_observed: ts,
        req last_observed: ts,
        req number_observed: int(1, MAX_COUNT),
        opt objects: dict,
        opt object_refs: refs(Targets::ScoOrSro),
    } order [("first_observed", "last_observed", false, "last-observed-after-first-observed")];
    /// Opinion: an assessment of the correctness of other objects.
    Opinion / OPINION = "opinion", Sdo, "4.15" {
        opt explanation: string,
        opt authors: strings,
        req opinion: vocab(vocab::OPINION),
        req object_refs: refs(ANY),
    };
    /// Report: a collection of threat intelligence on one or more topics.
    Report / REPORT = "report", Sdo, "4.16" {
        req name: string,
        opt description: string,
        opt report_types: vocabs(vocab::REPORT_TYPE),
        req published: ts,
        req object_refs: refs(ANY),
    };
    /// Threat Actor: an individual, group or organization acting with malicious intent.
    ThreatActor / THREAT_ACTOR = "threat-actor", Sdo, "4.17" {
        req name: string,
        opt description: string,
        opt threat_actor_types: vocabs(vocab::THREAT_ACTOR_TYPE),
        opt aliases: strings,
        opt first_seen: ts,
        opt last_seen: ts,
        opt roles: vocabs(vocab::THREAT_ACTOR_ROLE),
        opt goals: strings,
        opt sophistication: vocab(vocab::THREAT_ACTOR_SOPHISTICATION),
        opt resource_level: vocab(vocab::ATTACK_RESOURCE_LEVEL),
        opt primary_motivation: vocab(vocab::ATTACK_MOTIVATION),
        opt secondary_motivations: vocabs(vocab::ATTACK_MOTIVATION),
        opt personal_motivations: vocabs(vocab::ATTACK_MOTIVATION),
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];
    /// Tool: legitimate software that can be used by threat actors.
    Tool / TOOL = "tool", Sdo, "4.18" {
        req name: string,
        opt description: string,
        opt tool_types: vocabs(vocab::TOOL_TYPE),
        opt aliases: strings,
        opt kill_chain_phases: kcp,
        opt tool_version: string,
    };
    /// Vulnerability: a mistake in software that can be exploited.
    Vulnerability / VULNERABILITY = "vulnerability", Sdo, "4.19" {
        req name: string,
        opt description: string,
    };

    // ---- §5 STIX Relationship Objects ----
    /// Relationship: links two SDOs or SCOs.
    Relationship / RELATIONSHIP = "relationship", Sro, "5.1" {
        req relationship_type: string,
        opt description: string,
        req source_ref: ref_(Targets::SdoOrSco),
        req target_ref: ref_(Targets::SdoOrSco),
        opt start_time: ts,
        opt stop_time: ts,
    } order [("start_time", "stop_time", true, "stop-time-after-start-time")];
    /// Sighting: the belief that something in CTI was seen.
    Sighting / SIGHTING = "sighting", Sro, "5.2" {
        opt description: string,
        opt first_seen: ts,
        opt last_seen: ts,
        opt count: int(NON_NEG, MAX_COUNT),
        req sighting_of_ref: ref_(SDO),
        opt observed_data_refs: refs(Targets::Types(&["observed-data"])),
        opt where_sighted_refs: refs(Targets::Types(&["identity", "location"])),
        opt summary: bool,
    } order [("first_seen", "last_seen", false, "last-seen-after-first-seen")];

    // ---- §6 STIX Cyber-observable Objects ----
    /// Artifact: an array of bytes, inline or by URL.
    Artifact / ARTIFACT = "artifact", Sco, "6.1" {
        opt mime_type: string,
        opt payload_bin: binary,
        opt url: string,
        opt hashes: hashes,
        opt encryption_algorithm: vocab(vocab::ENCRYPTION_ALGORITHM),
        opt decryption_key: string,
    } ids ["hashes", "payload_bin"]
      one_of [["payload_bin", "url"]];
    /// Autonomous System.
    AutonomousSystem / AUTONOMOUS_SYSTEM = "autonomous-system", Sco, "6.2" {
        req number: int,
        opt name: string,
        opt rir: string,
    } ids ["number"];
    /// Directory: a file system directory.
    Directory / DIRECTORY = "directory", Sco, "6.3" {
        req path: string,
        opt path_enc: string,
        opt ctime: ts,
        opt mtime: ts,
        opt atime: ts,
        opt contains_refs: refs(Targets::Types(&["file", "directory"])),
    } ids ["path"];
    /// Domain Name.
    DomainName / DOMAIN_NAME = "domain-name", Sco, "6.4" {
        req value: string,
        opt resolves_to_refs: refs(Targets::Types(&["ipv4-addr", "ipv6-addr", "domain-name"])),
    } ids ["value"];
    /// Email Address.
    EmailAddr / EMAIL_ADDR = "email-addr", Sco, "6.5" {
        req value: string,
        opt display_name: string,
        opt belongs_to_ref: ref_(Targets::Types(&["user-account"])),
    } ids ["value"];
    /// Email Message.
    EmailMessage / EMAIL_MESSAGE = "email-message", Sco, "6.6" {
        req is_multipart: bool,
        opt date: ts,
        opt content_type: string,
        opt from_ref: ref_(Targets::Types(&["email-addr"])),
        opt sender_ref: ref_(Targets::Types(&["email-addr"])),
        opt to_refs: refs(Targets::Types(&["email-addr"])),
        opt cc_refs: refs(Targets::Types(&["email-addr"])),
        opt bcc_refs: refs(Targets::Types(&["email-addr"])),
        opt message_id: string,
        opt subject: string,
        opt received_lines: strings,
        opt additional_header_fields: dict,
        opt body: string,
        opt body_multipart: objs(crate::spec::EMAIL_MIME_PART),
        opt raw_email_ref: ref_(Targets::Types(&["artifact"])),
    } ids ["from_ref", "subject", "body"];
    /// File.
    File / FILE = "file", Sco, "6.7" {
        opt hashes: hashes,
        opt size: int(NON_NEG, i64::MAX),
        opt name: string,
        opt name_enc: string,
        opt magic_number_hex: hex,
        opt mime_type: string,
        opt ctime: ts,
        opt mtime: ts,
        opt atime: ts,
        opt parent_directory_ref: ref_(Targets::Types(&["directory"])),
        opt contains_refs: refs(Targets::Sco),
        opt content_ref: ref_(Targets::Types(&["artifact"])),
    } ids ["hashes", "name", "extensions", "parent_directory_ref"]
      one_of [["hashes", "name"]];
    /// IPv4 Address (one address or a CIDR block).
    Ipv4Addr / IPV4_ADDR = "ipv4-addr", Sco, "6.8" {
        req value: string,
        opt resolves_to_refs: refs(Targets::Types(&["mac-addr"])),
        opt belongs_to_refs: refs(Targets::Types(&["autonomous-system"])),
    } ids ["value"];
    /// IPv6 Address (one address or a CIDR block).
    Ipv6Addr / IPV6_ADDR = "ipv6-addr", Sco, "6.9" {
        req value: string,
        opt resolves_to_refs: refs(Targets::Types(&["mac-addr"])),
        opt belongs_to_refs: refs(Targets::Types(&["autonomous-system"])),
    } ids ["value"];
    /// MAC Address.
    MacAddr / MAC_ADDR = "mac-addr", Sco, "6.10" {
        req value: string,
    } ids ["value"];
    /// Mutex.
    Mutex / MUTEX = "mutex", Sco, "6.11" {
        req name: string,
    } ids ["name"];
    /// Network Traffic: a flow between a source and a destination.
    NetworkTraffic / NETWORK_TRAFFIC = "network-traffic", Sco, "6.12" {
        opt start: ts,
        opt end: ts,
        opt is_active: bool,
        opt src_ref: ref_(Targets::Types(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"])),
        opt dst_ref: ref_(Targets::Types(&["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"])),
        opt src_port: int(NON_NEG, 65535),
        opt dst_port: int(NON_NEG, 65535),
        req protocols: strings,
        opt src_byte_count: int(NON_NEG, i64::MAX),
        opt dst_byte_count: int(NON_NEG, i64::MAX),
        opt src_packets: int(NON_NEG, i64::MAX),
        opt dst_packets: int(NON_NEG, i64::MAX),
        opt ipfix: dict,
        opt src_payload_ref: ref_(Targets::Types(&["artifact"])),
        opt dst_payload_ref: ref_(Targets::Types(&["artifact"])),
        opt encapsulates_refs: refs(Targets::Types(&["network-traffic"])),
        opt encapsulated_by_ref: ref_(Targets::Types(&["network-traffic"])),
    } ids ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"]
      order [("start", "end", false, "end-after-start")]
      one_of [["src_ref", "dst_ref"]];
    /// Process.
    Process / PROCESS = "process", Sco, "6.13" {
        opt is_hidden: bool,
        opt pid: int,
        opt created_time: ts,
        opt cwd: string,
        opt command_line: string,
        opt environment_variables: dict,
        opt opened_connection_refs: refs(Targets::Types(&["network-traffic"])),
        opt creator_user_ref: ref_(Targets::Types(&["user-account"])),
        opt image_ref: ref_(Targets::Types(&["file"])),
        opt parent_ref: ref_(Targets::Types(&["process"])),
        opt child_refs: refs(Targets::Types(&["process"])),
    };
    /// Software: a high-level software product.
    Software / SOFTWARE = "software", Sco, "6.14" {
        req name: string,
        opt cpe: string,
        opt swid: string,
        opt languages: strings,
        opt vendor: string,
        opt version: string,
    } ids ["name", "cpe", "swid", "vendor", "version"];
    /// URL.
    Url / URL = "url", Sco, "6.15" {
        req value: string,
    } ids ["value"];
    /// User Account.
    UserAccount / USER_ACCOUNT = "user-account", Sco, "6.16" {
        opt user_id: string,
        opt credential: string,
        opt account_login: string,
        opt account_type: vocab(vocab::ACCOUNT_TYPE),
        opt display_name: string,
        opt is_service_account: bool,
        opt is_privileged: bool,
        opt can_escalate_privs: bool,
        opt is_disabled: bool,
        opt account_created: ts,
        opt account_expires: ts,
        opt credential_last_changed: ts,
        opt account_first_login: ts,
        opt account_last_login: ts,
    } ids ["account_type", "user_id", "account_login"];
    /// Windows Registry Key.
    WindowsRegistryKey / WINDOWS_REGISTRY_KEY = "windows-registry-key", Sco, "6.17" {
        opt key: string,
        opt values: objs(crate::spec::WINDOWS_REGISTRY_VALUE),
        opt modified_time: ts,
        opt creator_user_ref: ref_(Targets::Types(&["user-account"])),
        opt number_of_subkeys: int(NON_NEG, i64::MAX),
    } ids ["key", "values"];
    /// X.509 Certificate.
    X509Certificate / X509_CERTIFICATE = "x509-certificate", Sco, "6.18" {
        opt is_self_signed: bool,
        opt hashes: hashes,
        opt version: string,
        opt serial_number: string,
        opt signature_algorithm: string,
        opt issuer: string,
        opt validity_not_before: ts,
        opt validity_not_after: ts,
        opt subject: string,
        opt subject_public_key_algorithm: string,
        opt subject_public_key_modulus: string,
        opt subject_public_key_exponent: int,
        opt x509_v3_extensions: dict,
    } ids ["hashes", "serial_number"];

    // ---- §7 STIX Meta Objects ----
    /// Language Content: translations of another object's text.
    LanguageContent / LANGUAGE_CONTENT = "language-content", Meta, "7.1" {
        req object_ref: ref_(Targets::NotLanguageContent),
        opt object_modified: ts,
        req contents: dict,
    };
    /// Marking Definition: a data marking (TLP, statement, or an extension).
    MarkingDefinition / MARKING_DEFINITION = "marking-definition", Meta, "7.2.1" {
        opt name: string,
        opt definition_type: string,
        opt definition: dict,
    };
    /// Extension Definition: defines a new object type or extra properties.
    ExtensionDefinition / EXTENSION_DEFINITION = "extension-definition", Meta, "7.3" {
        req created_by_ref: ref_(Targets::Types(&["identity"])),
        req name: string,
        opt description: string,
        req schema: string,
        req version: string,
        req extension_types: vocabs(vocab::EXTENSION_TYPE),
        opt extension_properties: strings,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_fit_the_validator_bit_masks() {
        for t in ALL_TYPES {
            assert!(t.props.len() < 64, "{}", t.name);
            assert!(crate::spec::common_props(t.category, t.name).len() < 64);
        }
    }
}
