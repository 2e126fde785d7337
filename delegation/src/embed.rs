//! Embedders for the L3 semantic cache: text → unit vector.
//!
//! [`HashedNgramEmbedder`] is built in and needs no weights: feature hashing of words and
//! character 3-grams. It catches spelling variants and reordered or extra words, not
//! synonyms, so its similarities run lower than a neural model's (paraphrases land around
//! 0.7–0.9); pick the threshold for the embedder in use. Embedders that do I/O live in the
//! host layer (`rtfs_models::OpenAiEmbedder` calls an OpenAI-compatible `/embeddings`
//! endpoint); this crate only defines the trait.

use thiserror::Error;

/// Turns text into a vector of `dim()` floats. Implementations must be deterministic: the
/// same text gives the same vector, in this process and the next, or cached entries are lost.
pub trait Embedder: Send + Sync {
    /// Names the embedder and its configuration (vectors of different ids are not comparable).
    fn id(&self) -> &str;
    fn dim(&self) -> usize;
    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError>;
    /// Whether embedding keeps the text on this device. The runtime must not give a
    /// sensitive argument's text to an embedder for which this is false.
    fn is_on_device(&self) -> bool {
        true
    }
}

#[derive(Debug, Error, Clone, PartialEq)]
pub enum EmbedError {
    #[error("embedder configuration: {0}")]
    Config(String),
    #[error("embedder `{embedder}`: API key variable `{var}` is not set")]
    MissingKey { embedder: String, var: String },
    #[error("embedder `{embedder}`: request failed: {reason}")]
    Transport { embedder: String, reason: String },
    #[error("embedder `{embedder}`: HTTP {status}: {body}")]
    Status {
        embedder: String,
        status: u16,
        body: String,
    },
    #[error("embedder `{embedder}`: malformed response: {reason}")]
    Malformed { embedder: String, reason: String },
    #[error("embedder `{embedder}`: expected {expected} dimensions, got {got}")]
    Dimension {
        embedder: String,
        expected: usize,
        got: usize,
    },
}

/// Scales `v` to unit length in place (a zero vector stays zero: it matches nothing).
pub fn normalize(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

/// Words and character 3-grams hashed into `dim` signed buckets, then L2-normalised.
///
/// Tokens are maximal runs of Unicode alphanumeric characters of the lower-cased text. Each
/// word is a feature, and so is each 3-gram of the word framed as `^word$` (so short words
/// still give grams and word edges count). Buckets and signs come from blake3, which is the
/// same on every platform and in every process.
#[derive(Clone, Debug)]
pub struct HashedNgramEmbedder {
    dim: usize,
    id: String,
}

impl HashedNgramEmbedder {
    pub const DEFAULT_DIM: usize = 256;
    /// Above this a vector costs more to scan than the hashing gains in precision.
    pub const MAX_DIM: usize = 1 << 16;

    pub fn new(dim: usize) -> Result<HashedNgramEmbedder, EmbedError> {
        if dim == 0 || dim > Self::MAX_DIM {
            return Err(EmbedError::Config(format!(
                "hashed-ngram dimension must be in 1..={}, got {dim}",
                Self::MAX_DIM
            )));
        }
        Ok(HashedNgramEmbedder {
            dim,
            id: format!("hashed-ngram-v1/{dim}"),
        })
    }

    fn add(&self, v: &mut [f32], kind: u8, feature: &str, weight: f32) {
        let mut h = blake3::Hasher::new();
        h.update(&[kind]);
        h.update(feature.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 8];
        b.copy_from_slice(&d.as_bytes()[..8]);
        let x = u64::from_le_bytes(b);
        let bucket = (x % self.dim as u64) as usize;
        let sign = if x >> 63 == 0 { 1.0 } else { -1.0 };
        v[bucket] += sign * weight;
    }
}

impl Default for HashedNgramEmbedder {
    fn default() -> Self {
        HashedNgramEmbedder {
            dim: Self::DEFAULT_DIM,
            id: format!("hashed-ngram-v1/{}", Self::DEFAULT_DIM),
        }
    }
}

impl Embedder for HashedNgramEmbedder {
    fn id(&self) -> &str {
        &self.id
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut v = vec![0.0f32; self.dim];
        let lower = text.to_lowercase();
        let mut framed: Vec<char> = Vec::new();
        let mut gram = String::new();
        for word in lower.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            self.add(&mut v, b'w', word, 1.0);
            framed.clear();
            framed.push('^');
            framed.extend(word.chars());
            framed.push('$');
            for w in framed.windows(3) {
                gram.clear();
                gram.extend(w.iter());
                self.add(&mut v, b'g', &gram, 1.0);
            }
        }
        normalize(&mut v);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn hashed_is_deterministic_and_unit_length() {
        let e = HashedNgramEmbedder::default();
        let a = e.embed("Résumé of the Quarterly report").unwrap();
        let b = HashedNgramEmbedder::new(256)
            .unwrap()
            .embed("Résumé of the Quarterly report")
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 256);
        assert!((cos(&a, &a) - 1.0).abs() < 1e-5);
        // Case and punctuation do not matter.
        let c = e.embed("résumé, of THE quarterly-report!").unwrap();
        assert!(cos(&a, &c) > 0.999);
    }

    #[test]
    fn paraphrases_score_above_unrelated_pairs() {
        let e = HashedNgramEmbedder::default();
        let q = e.embed("summarize the quarterly report").unwrap();
        let para = e.embed("summarise the quarterly report please").unwrap();
        let unrelated = e.embed("translate this poem into French").unwrap();
        let p = cos(&q, &para);
        let u = cos(&q, &unrelated);
        assert!(p > 0.7, "paraphrase similarity {p}");
        assert!(u < 0.3, "unrelated similarity {u}");
        assert!(p > u + 0.4);
    }

    #[test]
    fn bad_dimension_and_empty_text() {
        assert!(matches!(
            HashedNgramEmbedder::new(0),
            Err(EmbedError::Config(_))
        ));
        let v = HashedNgramEmbedder::default().embed("  ,, ").unwrap();
        assert!(v.iter().all(|x| *x == 0.0));
    }
}
