//! STIX 2.1 vocabularies (§10) and enumerations.
//!
//! An *open* vocabulary (`-ov`) lists suggested values: producers SHOULD use them but may
//! use others, so a value outside the list is a warning. An *enumeration* (`-enum`) is
//! closed: any other value breaks a MUST and is an error.

/// A named list of values and whether it is closed.
#[derive(Debug)]
pub struct Vocab {
    /// The vocabulary's name in the specification, e.g. `indicator-type-ov`.
    pub name: &'static str,
    /// The values the specification lists.
    pub values: &'static [&'static str],
    /// `true` for enumerations (other values are errors), `false` for open vocabularies.
    pub closed: bool,
}

impl Vocab {
    /// Whether `value` is one of the listed values.
    pub fn contains(&self, value: &str) -> bool {
        self.values.contains(&value)
    }
}

macro_rules! vocab {
    ($(#[$doc:meta])* $ident:ident, $name:literal, $closed:literal, [$($v:literal),* $(,)?]) => {
        $(#[$doc])*
        pub static $ident: Vocab = Vocab { name: $name, values: &[$($v),*], closed: $closed };
    };
}

vocab!(/// `account-type-ov` (STIX 2.1 §10).
    ACCOUNT_TYPE, "account-type-ov", false, ["facebook", "ldap", "nis", "openid", "radius", "skype",
    "tacacs", "twitter", "unix", "windows-local", "windows-domain"]);
vocab!(/// `attack-motivation-ov` (STIX 2.1 §10).
    ATTACK_MOTIVATION, "attack-motivation-ov", false, ["accidental", "coercion", "dominance",
    "ideology", "notoriety", "organizational-gain", "personal-gain", "personal-satisfaction",
    "revenge", "unpredictable"]);
vocab!(/// `attack-resource-level-ov` (STIX 2.1 §10).
    ATTACK_RESOURCE_LEVEL, "attack-resource-level-ov", false, ["individual", "club", "contest",
    "team", "organization", "government"]);
vocab!(/// `grouping-context-ov` (STIX 2.1 §10).
    GROUPING_CONTEXT, "grouping-context-ov", false, ["suspicious-activity", "malware-analysis",
    "unspecified"]);
vocab!(/// `hashing-algorithm-ov` (STIX 2.1 §10).
    HASHING_ALGORITHM, "hashing-algorithm-ov", false, ["MD5", "SHA-1", "SHA-256", "SHA-512",
    "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"]);
vocab!(/// `identity-class-ov` (STIX 2.1 §10).
    IDENTITY_CLASS, "identity-class-ov", false, ["individual", "group", "system", "organization",
    "class", "unknown"]);
vocab!(/// `implementation-language-ov` (STIX 2.1 §10).
    IMPLEMENTATION_LANGUAGE, "implementation-language-ov", false, ["applescript", "bash", "c",
    "c++", "c#", "go", "java", "javascript", "lua", "objective-c", "perl", "php", "powershell",
    "python", "ruby", "scala", "swift", "typescript", "visual-basic", "x86-32", "x86-64"]);
vocab!(/// `indicator-type-ov` (STIX 2.1 §10).
    INDICATOR_TYPE, "indicator-type-ov", false, ["anomalous-activity", "anonymization", "benign",
    "compromised", "malicious-activity", "attribution", "unknown"]);
vocab!(/// `industry-sector-ov` (STIX 2.1 §10).
    INDUSTRY_SECTOR, "industry-sector-ov", false, ["agriculture", "aerospace", "automotive",
    "chemical", "commercial", "communications", "construction", "defense", "education", "energy",
    "engineering", "entertainment", "financial-services", "government", "emergency-services",
    "government-local", "government-national", "government-public-services",
    "government-regional", "healthcare", "hospitality-leisure", "infrastructure", "dams",
    "nuclear", "water", "insurance", "manufacturing", "mining", "non-profit", "pharmaceuticals",
    "retail", "technology", "telecommunications", "transportation", "utilities"]);
vocab!(/// `infrastructure-type-ov` (STIX 2.1 §10).
    INFRASTRUCTURE_TYPE, "infrastructure-type-ov", false, ["amplification", "anonymization",
    "botnet", "command-and-control", "control-system", "exfiltration", "firewall", "hosting-malware",
    "hosting-target-lists", "phishing", "reconnaissance", "routers-switches", "staging",
    "workstation", "unknown"]);
vocab!(/// `malware-result-ov` (STIX 2.1 §10).
    MALWARE_RESULT, "malware-result-ov", false, ["malicious", "suspicious", "benign", "unknown"]);
vocab!(/// `malware-capabilities-ov` (STIX 2.1 §10).
    MALWARE_CAPABILITIES, "malware-capabilities-ov", false, ["accesses-remote-machines",
    "anti-debugging", "anti-disassembly", "anti-emulation", "anti-memory-forensics",
    "anti-sandbox", "anti-vm", "captures-input-peripherals", "captures-output-peripherals",
    "captures-system-state-data", "cleans-traces-of-infection", "commits-fraud",
    "communicates-with-c2", "compromises-data-availability", "compromises-data-integrity",
    "compromises-system-availability", "controls-local-machine", "degrades-security-software",
    "degrades-system-updates", "determines-c2-server", "emails-spam", "escalates-privileges",
    "evades-av", "exfiltrates-data", "fingerprints-host", "hides-artifacts",
    "hides-executing-code", "infects-files", "infects-remote-machines",
    "installs-other-components", "persists-after-system-reboot", "prevents-artifact-access",
    "prevents-artifact-deletion", "probes-network-environment", "self-modifies",
    "steals-authentication-credentials", "violates-system-operational-integrity"]);
vocab!(/// `malware-type-ov` (STIX 2.1 §10).
    MALWARE_TYPE, "malware-type-ov", false, ["adware", "backdoor", "bot", "bootkit", "ddos",
    "downloader", "dropper", "exploit-kit", "keylogger", "ransomware", "remote-access-trojan",
    "resource-exploitation", "rogue-security-software", "rootkit", "screen-capture", "spyware",
    "trojan", "unknown", "virus", "webshell", "wiper", "worm"]);
vocab!(/// `pattern-type-ov` (STIX 2.1 §10).
    PATTERN_TYPE, "pattern-type-ov", false, ["stix", "pcre", "sigma", "snort", "suricata", "yara"]);
vocab!(/// `processor-architecture-ov` (STIX 2.1 §10).
    PROCESSOR_ARCHITECTURE, "processor-architecture-ov", false, ["alpha", "arm", "ia-64", "mips",
    "powerpc", "sparc", "x86", "x86-64"]);
vocab!(/// `region-ov` (STIX 2.1 §10).
    REGION, "region-ov", false, ["africa", "eastern-africa", "middle-africa", "northern-africa",
    "southern-africa", "western-africa", "americas", "latin-america-caribbean", "south-america",
    "caribbean", "central-america", "northern-america", "asia", "central-asia", "eastern-asia",
    "southern-asia", "south-eastern-asia", "western-asia", "europe", "eastern-europe",
    "northern-europe", "southern-europe", "western-europe", "oceania", "antarctica",
    "australia-new-zealand", "melanesia", "micronesia", "polynesia"]);
vocab!(/// `report-type-ov` (STIX 2.1 §10).
    REPORT_TYPE, "report-type-ov", false, ["attack-pattern", "campaign", "identity", "indicator",
    "intrusion-set", "malware", "observed-data", "threat-actor", "threat-report", "tool",
    "vulnerability"]);
vocab!(/// `threat-actor-type-ov` (STIX 2.1 §10).
    THREAT_ACTOR_TYPE, "threat-actor-type-ov", false, ["activist", "competitor", "crime-syndicate",
    "criminal", "hacker", "insider-accidental", "insider-disgruntled", "nation-state",
    "sensationalist", "spy", "terrorist", "unknown"]);
vocab!(/// `threat-actor-role-ov` (STIX 2.1 §10).
    THREAT_ACTOR_ROLE, "threat-actor-role-ov", false, ["agent", "director", "independent",
    "infrastructure-architect", "infrastructure-operator", "malware-author", "sponsor"]);
vocab!(/// `threat-actor-sophistication-ov` (STIX 2.1 §10).
    THREAT_ACTOR_SOPHISTICATION, "threat-actor-sophistication-ov", false, ["none", "minimal",
    "intermediate", "advanced", "expert", "innovator", "strategic"]);
vocab!(/// `tool-type-ov` (STIX 2.1 §10).
    TOOL_TYPE, "tool-type-ov", false, ["denial-of-service", "exploitation", "information-gathering",
    "network-capture", "credential-exploitation", "remote-access", "vulnerability-scanning",
    "unknown"]);
vocab!(/// STIX 2.1 §10 (windows-pebinary-ext `pe_type`, §6.7.5).
    WINDOWS_PEBINARY_TYPE, "windows-pebinary-type-ov", false, ["dll", "exe", "sys"]);

vocab!(/// STIX 2.1 §4.14 `opinion` (closed).
    OPINION, "opinion-enum", true, ["strongly-disagree", "disagree", "neutral", "agree",
    "strongly-agree"]);
vocab!(/// STIX 2.1 §7.3, `extension_types` / `extension_type` (closed).
    EXTENSION_TYPE, "extension-type-enum", true, ["new-sdo", "new-sco", "new-sro",
    "property-extension", "toplevel-property-extension"]);
vocab!(/// STIX 2.1 §10, artifact `encryption_algorithm` (closed).
    ENCRYPTION_ALGORITHM, "encryption-algorithm-enum", true, ["AES-256-GCM", "ChaCha20-Poly1305",
    "mime-type-indicated"]);
vocab!(/// STIX 2.1 §10, registry value `data_type` (closed).
    WINDOWS_REGISTRY_DATATYPE, "windows-registry-datatype-enum", true, ["REG_NONE", "REG_SZ",
    "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_DWORD_LITTLE_ENDIAN",
    "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTION",
    "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD", "REG_INVALID_TYPE"]);
vocab!(/// STIX 2.1 §6.12.3, socket-ext `address_family` (closed).
    NETWORK_SOCKET_ADDRESS_FAMILY, "network-socket-address-family-enum", true, ["AF_UNSPEC",
    "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH"]);
vocab!(/// STIX 2.1 §6.12.4 socket-ext `socket_type` (closed).
    NETWORK_SOCKET_TYPE, "network-socket-type-enum", true, ["SOCK_STREAM", "SOCK_DGRAM",
    "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"]);
vocab!(/// STIX 2.1 §6.13.1 windows-process-ext `integrity_level` (closed).
    WINDOWS_INTEGRITY_LEVEL, "windows-integrity-level-enum", true, ["low", "medium", "high",
    "system"]);
vocab!(/// STIX 2.1 §6.13.2 windows-service-ext `start_type` (closed).
    WINDOWS_SERVICE_START_TYPE, "windows-service-start-type-enum", true, ["SERVICE_AUTO_START",
    "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED", "SERVICE_SYSTEM_ALERT"]);
vocab!(/// STIX 2.1 §6.13.2 windows-service-ext `service_type` (closed).
    WINDOWS_SERVICE_TYPE, "windows-service-type-enum", true, ["SERVICE_KERNEL_DRIVER",
    "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS"]);
vocab!(/// STIX 2.1 §6.13.2 windows-service-ext `service_status` (closed).
    WINDOWS_SERVICE_STATUS, "windows-service-status-enum", true, ["SERVICE_CONTINUE_PENDING",
    "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING", "SERVICE_START_PENDING",
    "SERVICE_STOP_PENDING", "SERVICE_STOPPED"]);
