//! The one table of built-in functions, with their arity bounds and purity, and a fast
//! name lookup built once.

use std::collections::HashMap;
use std::sync::OnceLock;

use rtfs_ir::Builtin;
use rtfs_ir::func::{BuiltinFn, OwnedBuiltinFn};

use crate::util::V;
use crate::{
    arith, atoms, bits, colls, compare, convert, errors, higher_order, in_place, io, json,
    predicates, regex, seqs, strings, types,
};

const fn p(name: &'static str, min_args: u16, max_args: u16, func: BuiltinFn) -> Builtin {
    Builtin {
        name,
        min_args,
        max_args,
        func,
        pure_fn: true,
        owned: None,
    }
}

/// A pure built-in with a variant that updates a uniquely referenced first argument in
/// place (see `rtfs_ir::func::OwnedBuiltinFn`).
const fn po(
    name: &'static str,
    min_args: u16,
    max_args: u16,
    func: BuiltinFn,
    owned: OwnedBuiltinFn,
) -> Builtin {
    Builtin {
        name,
        min_args,
        max_args,
        func,
        pure_fn: true,
        owned: Some(owned),
    }
}

/// An impure built-in: does I/O or touches shared state (never cached or folded).
const fn imp(name: &'static str, min_args: u16, max_args: u16, func: BuiltinFn) -> Builtin {
    Builtin {
        name,
        min_args,
        max_args,
        func,
        pure_fn: false,
        owned: None,
    }
}

/// Every built-in function. Names are unique (checked by a test).
pub static BUILTINS: &[Builtin] = &[
    // arithmetic
    p("+", 0, V, arith::add),
    p("-", 1, V, arith::sub),
    p("*", 0, V, arith::mul),
    p("/", 1, V, arith::div),
    p("mod", 2, 2, arith::modulo),
    p("rem", 2, 2, arith::rem),
    p("quot", 2, 2, arith::quot),
    p("inc", 1, 1, arith::inc),
    p("dec", 1, 1, arith::dec),
    p("max", 1, V, arith::max),
    p("min", 1, V, arith::min),
    p("abs", 1, 1, arith::abs),
    p("even?", 1, 1, arith::even_p),
    p("odd?", 1, 1, arith::odd_p),
    p("zero?", 1, 1, arith::zero_p),
    p("pos?", 1, 1, arith::pos_p),
    p("neg?", 1, 1, arith::neg_p),
    p("sqrt", 1, 1, arith::sqrt),
    p("pow", 2, 2, arith::pow),
    p("factorial", 1, 1, arith::factorial),
    p("floor", 1, 1, arith::floor),
    p("ceil", 1, 1, arith::ceil),
    p("round", 1, 1, arith::round),
    p("sum", 1, 1, arith::sum),
    // comparison and equality
    p("=", 1, V, compare::eq),
    p("not=", 1, V, compare::not_eq),
    p("!=", 1, V, compare::not_eq),
    p("==", 1, V, compare::num_eq),
    p("<", 1, V, compare::lt),
    p(">", 1, V, compare::gt),
    p("<=", 1, V, compare::le),
    p(">=", 1, V, compare::ge),
    p("compare", 2, 2, compare::compare),
    p("not", 1, 1, compare::not),
    p("identical?", 2, 2, compare::identical_p),
    p("hash", 1, 1, compare::hash),
    // type predicates
    p("nil?", 1, 1, predicates::nil_p),
    p("some?", 1, 2, predicates::some_p),
    p("true?", 1, 1, predicates::true_p),
    p("false?", 1, 1, predicates::false_p),
    p("bool?", 1, 1, predicates::bool_p),
    p("boolean?", 1, 1, predicates::bool_p),
    p("int?", 1, 1, predicates::int_p),
    p("integer?", 1, 1, predicates::int_p),
    p("float?", 1, 1, predicates::float_p),
    p("double?", 1, 1, predicates::float_p),
    p("number?", 1, 1, predicates::number_p),
    p("num?", 1, 1, predicates::number_p),
    p("string?", 1, 1, predicates::string_p),
    p("string-p", 1, 1, predicates::string_p),
    p("keyword?", 1, 1, predicates::keyword_p),
    p("symbol?", 1, 1, predicates::symbol_p),
    p("vector?", 1, 1, predicates::vector_p),
    p("list?", 1, 1, predicates::list_p),
    p("map?", 1, 1, predicates::map_p),
    p("set?", 1, 1, predicates::set_p),
    p("coll?", 1, 1, predicates::coll_p),
    p("seq?", 1, 1, predicates::seq_p),
    p("sequential?", 1, 1, predicates::sequential_p),
    p("fn?", 1, 1, predicates::fn_p),
    p("atom?", 1, 1, predicates::atom_p),
    p("error?", 1, 1, predicates::error_p),
    p("empty?", 1, 1, predicates::empty_p),
    p("not-empty", 1, 1, predicates::not_empty),
    p("boolean", 1, 1, predicates::boolean),
    p("bool", 1, 1, predicates::boolean),
    p("type-of", 1, 1, predicates::type_of),
    p("type", 1, 1, types::type_kw),
    p("doc", 1, 1, predicates::doc),
    p("valid?", 2, 2, types::valid_p),
    p("instance?", 2, 2, types::valid_p),
    p("check-type", 2, 3, types::check_type),
    // bit operations
    p("bit-and", 2, V, bits::bit_and),
    p("bit-or", 2, V, bits::bit_or),
    p("bit-xor", 2, V, bits::bit_xor),
    p("bit-not", 1, 1, bits::bit_not),
    p("bit-shift-left", 2, 2, bits::shl),
    p("bit-shift-right", 2, 2, bits::shr),
    p("unsigned-bit-shift-right", 2, 2, bits::ushr),
    p("type-name", 1, 1, predicates::type_name),
    // strings
    p("str", 0, V, strings::str_),
    p("subs", 2, 3, strings::subs),
    p("substring", 2, 3, strings::substring),
    p("string-length", 1, 1, strings::string_length),
    p("string-contains", 2, 2, strings::string_contains),
    p("includes?", 2, 2, strings::includes_p),
    p("starts-with?", 2, 2, strings::starts_with_p),
    p("ends-with?", 2, 2, strings::ends_with_p),
    p("split", 2, 3, strings::split),
    p("split-lines", 1, 1, strings::split_lines),
    p("join", 1, 2, strings::join),
    p("string-join", 1, 2, strings::join),
    p("upper-case", 1, 1, strings::upper_case),
    p("string-upper", 1, 1, strings::upper_case),
    p("lower-case", 1, 1, strings::lower_case),
    p("string-lower", 1, 1, strings::lower_case),
    p("capitalize", 1, 1, strings::capitalize),
    p("trim", 1, 1, strings::trim),
    p("string-trim", 1, 1, strings::trim),
    p("triml", 1, 1, strings::triml),
    p("trimr", 1, 1, strings::trimr),
    p("trim-newline", 1, 1, strings::trim_newline),
    p("blank?", 1, 1, strings::blank_p),
    p("replace", 3, 3, strings::replace),
    p("replace-first", 3, 3, strings::replace_first),
    p("char-at", 2, 2, strings::char_at),
    p("index-of", 2, 3, strings::index_of),
    p("last-index-of", 2, 2, strings::last_index_of),
    p("format", 1, V, strings::format),
    p("name", 1, 1, strings::name),
    p("namespace", 1, 1, strings::namespace),
    p("keyword", 1, 2, strings::keyword),
    p("symbol", 1, 2, strings::symbol),
    p("char", 1, 1, strings::char_),
    // clojure.string-style aliases
    p("str/subs", 2, 3, strings::subs),
    p("str/substring", 2, 3, strings::substring),
    p("str/string-length", 1, 1, strings::string_length),
    p("str/join", 1, 2, strings::join),
    p("str/split", 2, 3, strings::split),
    p("str/split-lines", 1, 1, strings::split_lines),
    p("str/upper-case", 1, 1, strings::upper_case),
    p("str/lower-case", 1, 1, strings::lower_case),
    p("str/capitalize", 1, 1, strings::capitalize),
    p("str/trim", 1, 1, strings::trim),
    p("str/triml", 1, 1, strings::triml),
    p("str/trimr", 1, 1, strings::trimr),
    p("str/trim-newline", 1, 1, strings::trim_newline),
    p("str/blank?", 1, 1, strings::blank_p),
    p("str/replace", 3, 3, strings::replace),
    p("str/replace-first", 3, 3, strings::replace_first),
    p("str/starts-with?", 2, 2, strings::starts_with_p),
    p("str/ends-with?", 2, 2, strings::ends_with_p),
    p("str/includes?", 2, 2, strings::includes_p),
    p("str/index-of", 2, 3, strings::index_of),
    p("str/last-index-of", 2, 2, strings::last_index_of),
    p("str/format", 1, V, strings::format),
    p("str/reverse", 1, 1, seqs::reverse),
    p("str/char-at", 2, 2, strings::char_at),
    p("string/str", 0, V, strings::str_),
    p("string/subs", 2, 3, strings::subs),
    p("string/substring", 2, 3, strings::substring),
    p("string/string-length", 1, 1, strings::string_length),
    p("string/join", 1, 2, strings::join),
    p("string/split", 2, 3, strings::split),
    p("string/split-lines", 1, 1, strings::split_lines),
    p("string/upper-case", 1, 1, strings::upper_case),
    p("string/lower-case", 1, 1, strings::lower_case),
    p("string/capitalize", 1, 1, strings::capitalize),
    p("string/trim", 1, 1, strings::trim),
    p("string/triml", 1, 1, strings::triml),
    p("string/trimr", 1, 1, strings::trimr),
    p("string/trim-newline", 1, 1, strings::trim_newline),
    p("string/blank?", 1, 1, strings::blank_p),
    p("string/replace", 3, 3, strings::replace),
    p("string/replace-first", 3, 3, strings::replace_first),
    p("string/starts-with?", 2, 2, strings::starts_with_p),
    p("string/ends-with?", 2, 2, strings::ends_with_p),
    p("string/includes?", 2, 2, strings::includes_p),
    p("string/index-of", 2, 3, strings::index_of),
    p("string/last-index-of", 2, 2, strings::last_index_of),
    p("string/format", 1, V, strings::format),
    p("string/reverse", 1, 1, seqs::reverse),
    p("string/char-at", 2, 2, strings::char_at),
    // conversions
    p("parse-int", 1, 1, convert::parse_int),
    p("parse-float", 1, 1, convert::parse_float),
    p("parse-long", 1, 1, convert::parse_long),
    p("parse-double", 1, 1, convert::parse_double),
    p("int", 1, 1, convert::int),
    p("float", 1, 1, convert::float),
    p("double", 1, 1, convert::double),
    // sequences
    p("first", 1, 1, seqs::first),
    p("second", 1, 1, seqs::second),
    p("last", 1, 1, seqs::last),
    p("rest", 1, 1, seqs::rest),
    p("next", 1, 1, seqs::next),
    p("cons", 2, 2, seqs::cons),
    p("nth", 2, 3, seqs::nth),
    p("concat", 0, V, seqs::concat),
    p("reverse", 1, 1, seqs::reverse),
    p("sort", 1, 2, seqs::sort),
    p("sort-by", 2, 3, seqs::sort_by),
    p("map", 2, V, seqs::map),
    p("map-indexed", 2, 2, seqs::map_indexed),
    p("filter", 2, 2, seqs::filter),
    p("remove", 2, 2, seqs::remove),
    p("reduce", 2, 3, seqs::reduce),
    p("reductions", 2, 3, seqs::reductions),
    p("reduce-kv", 3, 3, seqs::reduce_kv),
    p("some", 2, 2, seqs::some),
    p("every?", 2, 2, seqs::every_p),
    p("not-any?", 2, 2, seqs::not_any_p),
    p("not-every?", 2, 2, seqs::not_every_p),
    p("take", 2, 2, seqs::take),
    p("drop", 2, 2, seqs::drop),
    p("take-last", 2, 2, seqs::take_last),
    p("drop-last", 1, 2, seqs::drop_last),
    p("butlast", 1, 1, seqs::butlast),
    p("take-while", 2, 2, seqs::take_while),
    p("drop-while", 2, 2, seqs::drop_while),
    p("split-at", 2, 2, seqs::split_at),
    p("split-with", 2, 2, seqs::split_with),
    p("range", 1, 3, seqs::range),
    p("numbers", 2, 2, seqs::numbers),
    p("repeat", 2, 2, seqs::repeat),
    p("repeatedly", 2, 2, seqs::repeatedly),
    p("partition", 2, 4, seqs::partition),
    p("partition-all", 2, 3, seqs::partition_all),
    p("partition-by", 2, 2, seqs::partition_by),
    p("group-by", 2, 2, seqs::group_by),
    p("frequencies", 1, 1, seqs::frequencies),
    p("distinct", 1, 1, seqs::distinct),
    p("dedupe", 1, 1, seqs::dedupe),
    p("mapcat", 2, V, seqs::mapcat),
    p("interleave", 0, V, seqs::interleave),
    p("interpose", 2, 2, seqs::interpose),
    p("flatten", 1, 1, seqs::flatten),
    p("keep", 2, 2, seqs::keep),
    p("keep-indexed", 2, 2, seqs::keep_indexed),
    p("peek", 1, 1, seqs::peek),
    p("pop", 1, 1, seqs::pop),
    p("subvec", 2, 3, seqs::subvec),
    p("seq", 1, 1, seqs::seq),
    // collections
    p("get", 2, 3, colls::get),
    p("get-in", 2, 3, colls::get_in),
    po("assoc", 3, V, colls::assoc, in_place::assoc),
    po("assoc-in", 3, 3, colls::assoc_in, in_place::assoc_in),
    po("dissoc", 1, V, colls::dissoc, in_place::dissoc),
    po("update", 3, V, colls::update, in_place::update),
    po("update-in", 3, V, colls::update_in, in_place::update_in),
    p("keys", 1, 1, colls::keys),
    p("vals", 1, 1, colls::vals),
    p("merge", 0, V, colls::merge),
    p("merge-with", 1, V, colls::merge_with),
    p("select-keys", 2, 2, colls::select_keys),
    p("rename-keys", 2, 2, colls::rename_keys),
    p("contains?", 2, 2, colls::contains_p),
    p("find", 2, 2, colls::find),
    p("key", 1, 1, colls::key),
    p("val", 1, 1, colls::val),
    p("vector", 0, V, colls::vector_),
    p("list", 0, V, colls::list),
    p("vec", 1, 1, colls::vec),
    p("hash-map", 0, V, colls::hash_map),
    p("hash-set", 0, V, colls::hash_set),
    p("set", 1, 1, colls::set),
    po("conj", 0, V, colls::conj, in_place::conj),
    p("disj", 1, V, colls::disj),
    po("into", 0, 2, colls::into, in_place::into),
    p("count", 1, 1, colls::count),
    p("length", 1, 1, colls::count),
    p("empty", 1, 1, colls::empty),
    p("zipmap", 2, 2, colls::zipmap),
    // functions
    p("apply", 2, V, higher_order::apply),
    p("identity", 1, 1, higher_order::identity),
    p("constantly", 1, 1, higher_order::constantly),
    p("comp", 0, V, higher_order::comp),
    p("partial", 1, V, higher_order::partial),
    p("juxt", 1, V, higher_order::juxt),
    p("complement", 1, 1, higher_order::complement),
    p("fnil", 2, V, higher_order::fnil),
    p("every-pred", 1, V, higher_order::every_pred),
    p("some-fn", 1, V, higher_order::some_fn),
    p("min-key", 2, V, higher_order::min_key),
    p("max-key", 2, V, higher_order::max_key),
    p("memoize", 1, 1, higher_order::memoize),
    // printing
    imp("println", 0, V, io::println),
    imp("print", 0, V, io::print),
    imp("prn", 0, V, io::prn),
    imp("pr", 0, V, io::pr),
    imp("newline", 0, 0, io::newline),
    imp("log", 0, V, io::log),
    imp("tool/log", 0, V, io::log),
    p("pr-str", 0, V, io::pr_str),
    p("prn-str", 0, V, io::prn_str),
    p("print-str", 0, V, io::print_str),
    p("println-str", 0, V, io::println_str),
    // regular expressions
    p("re-pattern", 1, 1, regex::re_pattern),
    p("re-find", 2, 2, regex::re_find),
    p("re-matches", 2, 2, regex::re_matches),
    p("re-seq", 2, 2, regex::re_seq),
    p("re-split", 2, 2, regex::re_split),
    p("re-replace", 3, 3, regex::re_replace),
    // JSON
    p("parse-json", 1, 1, json::parse_json),
    p("json/parse", 1, 1, json::json_parse),
    p("tool/parse-json", 1, 1, json::tool_parse_json),
    p("to-json", 1, 1, json::to_json),
    p("json/stringify", 1, 1, json::json_stringify),
    p("serialize-json", 1, 1, json::serialize_json),
    p("tool/serialize-json", 1, 1, json::tool_serialize_json),
    p("to-json-pretty", 1, 1, json::to_json_pretty),
    p("serialize-json-pretty", 1, 1, json::serialize_json_pretty),
    p(
        "tool/serialize-json-pretty",
        1,
        1,
        json::tool_serialize_json_pretty,
    ),
    // atoms
    imp("atom", 1, 1, atoms::atom),
    imp("deref", 1, 1, atoms::deref),
    imp("make-delay", 1, 1, atoms::make_delay),
    imp("force", 1, 1, atoms::force),
    imp("realized?", 1, 1, atoms::realized_p),
    imp("delay?", 1, 1, atoms::delay_p),
    imp("reset!", 2, 2, atoms::reset),
    imp("swap!", 2, V, atoms::swap),
    imp("compare-and-set!", 3, 3, atoms::compare_and_set),
    imp("assoc!", 3, V, atoms::assoc_bang),
    // errors
    p("error", 1, 3, errors::error),
    p("ex-info", 2, 3, errors::ex_info),
    p("ex-message", 1, 1, errors::ex_message),
    p("ex-data", 1, 1, errors::ex_data),
    p("ex-cause", 1, 1, errors::ex_cause),
    p("error-message", 1, 1, errors::error_message),
    p("error-type", 1, 1, errors::error_type),
    p("error-data", 1, 1, errors::error_data),
    p("getMessage", 1, 1, errors::get_message),
    p(".getMessage", 1, 1, errors::dot_get_message),
];

fn index() -> &'static HashMap<&'static str, &'static Builtin> {
    static INDEX: OnceLock<HashMap<&'static str, &'static Builtin>> = OnceLock::new();
    INDEX.get_or_init(|| BUILTINS.iter().map(|b| (b.name, b)).collect())
}

/// The built-in named `name`, if any.
#[inline]
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    index().get(name).copied()
}

#[cfg(test)]
#[allow(clippy::cloned_ref_to_slice_refs)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        let mut seen = std::collections::HashSet::new();
        for b in BUILTINS {
            assert!(seen.insert(b.name), "duplicate builtin {}", b.name);
            assert!(b.min_args <= b.max_args, "bad arity for {}", b.name);
            assert!(std::ptr::eq(lookup(b.name).expect("lookup"), b));
        }
        assert!(lookup("no-such-fn").is_none());
    }

    #[test]
    fn purity_marks() {
        for name in [
            "println", "print", "prn", "atom", "swap!", "reset!", "deref",
        ] {
            assert!(
                !lookup(name).is_none_or(|b| b.pure_fn),
                "{name} must be impure"
            );
        }
        for name in ["+", "map", "str", "pr-str", "parse-json"] {
            assert!(
                lookup(name).is_some_and(|b| b.pure_fn),
                "{name} must be pure"
            );
        }
    }

    #[test]
    fn spec_names_present() {
        for name in [
            "string-length",
            "substring",
            "string-contains",
            "type-name",
            "!=",
            "not=",
            "str",
            "tool/serialize-json",
            "tool/parse-json",
            "type-of",
            "hash-map",
            "vector",
            "range",
            "get-in",
            "map-indexed",
            "frequencies",
            "distinct",
            "sort-by",
            "remove",
        ] {
            assert!(lookup(name).is_some(), "missing {name}");
        }
    }
}
