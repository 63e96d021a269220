//! `section!`: declares a configuration section (a Traefik Go struct) once, and derives from that
//! one declaration the Rust struct, its `Default` (Traefik's `SetDefaults`) and its [`Decode`]
//! implementation (case-insensitive keys, unknown keys refused, `file:"-"` keys ignored).
//!
//! ```ignore
//! section! {
//!     /// A router.
//!     pub struct Router {
//!         /// The rule.
//!         rule: String = "rule",
//!         /// The priority.
//!         priority: i64 = "priority" => 0,
//!         /// TLS, enabled by `tls: {}`.
//!         @allow_empty tls: Option<RouterTls> = "tls",
//!     }
//!     ignore ["defaultRule"]
//! }
//! ```
//!
//! [`Decode`]: super::decode::Decode

/// Declares a configuration section; see the module documentation.
#[macro_export]
#[doc(hidden)]
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $(@$attr:ident)? $field:ident : $ty:ty = $key:literal $(=> $default:expr)?
            ),* $(,)?
        }
        $(ignore [$($ignored:literal),* $(,)?])?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $ty,
            )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    $($field: $crate::section!(@default $($default)?),)*
                }
            }
        }

        impl $name {
            /// The keys this section accepts, as Traefik documents them.
            pub const KEYS: &'static [&'static str] = &[$($key),*];
        }

        impl $crate::config::decode::Decode for $name {
            fn decode_into(
                slot: &mut Self,
                node: &$crate::config::node::Node,
                cx: &mut $crate::config::decode::Cx,
                allow_empty: bool,
            ) {
                const IGNORED: &[&str] = &[$($($ignored),*)?];
                let Some(entries) = cx.section_entries(node, allow_empty) else {
                    return;
                };
                let _ = &slot;
                for entry in entries {
                    if entry.value.is_null() {
                        continue;
                    }
                    $(
                        if entry.key.eq_ignore_ascii_case($key) {
                            $crate::config::decode::decode_field(
                                &mut slot.$field,
                                $key,
                                &entry.value,
                                cx,
                                $crate::section!(@allow_empty $($attr)?),
                            );
                            continue;
                        }
                    )*
                    if IGNORED.iter().any(|k| k.eq_ignore_ascii_case(&entry.key)) {
                        continue;
                    }
                    cx.unknown_field(entry, Self::KEYS);
                }
            }

            fn is_section() -> bool {
                true
            }
        }
    };
    (@default) => { Default::default() };
    (@default $e:expr) => { $e };
    (@allow_empty) => { false };
    (@allow_empty allow_empty) => { true };
}
