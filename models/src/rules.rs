//! [`RulesProvider`]: an on-device "model" made of ordered rules — the first rule whose
//! function glob matches the function name and whose regexes match the arguments (and the
//! prompt) answers. Built from TOML:
//!
//! ```toml
//! [[rule]]
//! function = "sentiment/*"          # glob over the function name (default "*")
//! args = '(?i)(love|great)'         # regex over the arguments as a compact JSON array
//! text = "positive: $1"             # answer text; $1, ${name} expand the args captures
//! value = "positive"                # optional structured answer (any TOML value)
//!
//! [[rule]]
//! function = "sentiment/*"
//! text = "neutral"
//! ```

use std::time::Instant;

use regex::Regex;
use serde::Deserialize;

use crate::glob;
use crate::provider::{ModelError, ModelProvider, ModelRequest, ModelResponse, Usage};

/// One rule as written in the TOML table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    #[serde(default = "any_function")]
    pub function: String,
    /// Regex over the arguments rendered as a compact JSON array, e.g. `["I love it",3]`.
    #[serde(default)]
    pub args: Option<String>,
    /// Regex over the prompt; a request without a prompt never matches it.
    #[serde(default)]
    pub prompt: Option<String>,
    pub text: String,
    #[serde(default)]
    pub value: Option<serde_json::Value>,
}

fn any_function() -> String {
    "*".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug)]
struct Rule {
    function: String,
    args: Option<Regex>,
    prompt: Option<Regex>,
    text: String,
    value: Option<serde_json::Value>,
}

pub struct RulesProvider {
    id: String,
    rules: Vec<Rule>,
}

/// Regexes from configuration are size-limited so a hostile pattern cannot eat memory.
fn compile(what: &str, n: usize, pattern: &str) -> Result<Regex, ModelError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| ModelError::Config(format!("rule {n}: bad {what} regex: {e}")))
}

impl RulesProvider {
    /// Rules in order of priority.
    pub fn new(id: impl Into<String>, specs: Vec<RuleSpec>) -> Result<RulesProvider, ModelError> {
        let rules = specs
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let n = i + 1;
                Ok(Rule {
                    args: s
                        .args
                        .as_deref()
                        .map(|p| compile("args", n, p))
                        .transpose()?,
                    prompt: s
                        .prompt
                        .as_deref()
                        .map(|p| compile("prompt", n, p))
                        .transpose()?,
                    function: s.function,
                    text: s.text,
                    value: s.value,
                })
            })
            .collect::<Result<Vec<_>, ModelError>>()?;
        Ok(RulesProvider {
            id: id.into(),
            rules,
        })
    }

    /// Rules from a TOML document with `[[rule]]` tables.
    pub fn from_toml(id: impl Into<String>, text: &str) -> Result<RulesProvider, ModelError> {
        let file: RulesFile =
            toml::from_str(text).map_err(|e| ModelError::Config(format!("rules: {e}")))?;
        RulesProvider::new(id, file.rule)
    }

    /// Rules from an already-parsed TOML table (e.g. a section of a larger config file).
    pub fn from_table(
        id: impl Into<String>,
        table: toml::Table,
    ) -> Result<RulesProvider, ModelError> {
        let file: RulesFile = table
            .try_into()
            .map_err(|e: toml::de::Error| ModelError::Config(format!("rules: {e}")))?;
        RulesProvider::new(id, file.rule)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl ModelProvider for RulesProvider {
    fn id(&self) -> &str {
        &self.id
    }

    fn infer(&self, req: &ModelRequest) -> Result<ModelResponse, ModelError> {
        let start = Instant::now();
        let args = serde_json::to_string(&req.args).unwrap_or_default();
        for rule in &self.rules {
            if !glob::matches(&rule.function, &req.function) {
                continue;
            }
            let caps = match &rule.args {
                Some(re) => match re.captures(&args) {
                    Some(c) => Some(c),
                    None => continue,
                },
                None => None,
            };
            if let Some(re) = &rule.prompt
                && !req.prompt.as_deref().is_some_and(|p| re.is_match(p))
            {
                continue;
            }
            let text = match caps {
                Some(c) => {
                    let mut out = String::new();
                    c.expand(&rule.text, &mut out);
                    out
                }
                None => rule.text.clone(),
            };
            return Ok(ModelResponse {
                text,
                value: rule.value.clone(),
                usage: Usage::default(),
                latency: start.elapsed(),
                attempts: 1,
            });
        }
        Err(ModelError::NoMatch {
            provider: self.id.clone(),
            function: req.function.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULES: &str = r#"
        [[rule]]
        function = "sentiment/*"
        args = '(?i)(?P<word>love|great)'
        text = "positive (${word})"
        value = { label = "positive", score = 0.9 }

        [[rule]]
        function = "sentiment/*"
        prompt = "urgent"
        text = "escalate"

        [[rule]]
        function = "sentiment/*"
        text = "neutral"
        value = "neutral"
    "#;

    #[test]
    fn the_first_matching_rule_answers() {
        let p = RulesProvider::from_toml("sentiment-rules", RULES).unwrap();
        assert_eq!(p.len(), 3);
        let r = p
            .infer(&ModelRequest::new(
                "sentiment/classify",
                vec![json!("I LOVE it")],
            ))
            .unwrap();
        assert_eq!(r.text, "positive (LOVE)");
        assert_eq!(r.value, Some(json!({"label": "positive", "score": 0.9})));
        let r = p
            .infer(
                &ModelRequest::new("sentiment/classify", vec![json!("meh")]).with_prompt("urgent!"),
            )
            .unwrap();
        assert_eq!(r.text, "escalate");
        assert_eq!(r.value, None);
        let r = p
            .infer(&ModelRequest::new("sentiment/classify", vec![json!("meh")]))
            .unwrap();
        assert_eq!(r.text, "neutral");
        assert_eq!(r.value, Some(json!("neutral")));
    }

    #[test]
    fn no_match_and_bad_rules_are_clear_errors() {
        let p = RulesProvider::from_toml("r", RULES).unwrap();
        let e = p
            .infer(&ModelRequest::new("translate/en", vec![]))
            .unwrap_err();
        assert!(matches!(e, ModelError::NoMatch { .. }), "{e}");
        for bad in [
            "[[rule]]\nargs = '('\ntext = 'x'",
            "[[rule]]\nfunction = 'x'",
            "[[rule]]\ntext = 'x'\ncolour = 'red'",
            "rule = 3",
            "not toml at all [",
        ] {
            let e = RulesProvider::from_toml("r", bad).err().unwrap();
            assert!(matches!(e, ModelError::Config(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn rules_can_come_from_a_parsed_table() {
        let table: toml::Table = toml::from_str("[[rule]]\ntext = 'hi'").unwrap();
        let p = RulesProvider::from_table("r", table).unwrap();
        assert_eq!(
            p.infer(&ModelRequest::new("any", vec![])).unwrap().text,
            "hi"
        );
    }
}
