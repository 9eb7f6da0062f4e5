"""Settings of reason discovery, apart from `cluster` so that config need not import BERTopic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ClusterSettings(BaseModel):
    """How reasons are discovered. One default for every data set: nothing here is a K."""

    model_config = ConfigDict(extra="forbid")

    seed: int = 42
    """UMAP's random_state (also KeyBERT's sampling); the same seed gives the same reasons."""
    center_embeddings: bool = True
    """Subtract the mean vector before clustering (helps e5, harmless for MiniLM)."""
    center_by_language: bool = True
    """When languages are known, subtract each language's mean vector: multilingual models
    otherwise group calls by language before reason (sample: NMI 0.48 -> 0.55). With one
    language this is the same as `center_embeddings`."""
    fit_unanswered: bool = False
    """Let unanswered calls shape the reasons. Off: their only text is a queue or IVR note
    ("hung up in queue, IVR option: invoice"), which forms clusters of its own rather than a
    reason; they are assigned to the nearest reason instead, or left unexplained."""
    language_min_share: float = Field(default=0.02, ge=0.0, lt=1.0)
    """Languages with fewer texts than this share are centred on the overall mean instead."""
    umap_n_neighbors: int = Field(default=15, ge=2)
    umap_n_components: int = Field(default=5, ge=2)
    umap_min_dist: float = Field(default=0.0, ge=0.0)
    min_cluster_share: float = Field(default=1 / 300, gt=0, lt=1)
    """The smallest HDBSCAN min_cluster_size tried, as a share of the texts (3,000 texts: 10)."""
    min_cluster_size_floor: int = Field(default=5, ge=2)
    """... but never below this many texts."""
    min_cluster_span: float = Field(default=4.0, ge=1.0)
    """The largest min_cluster_size tried is this many times the smallest: the data chooses
    in between (see `count_space`). 1 tries only the share."""
    count_steps: int = Field(default=5, ge=1, le=12)
    """How many min_cluster_size values are tried (geometric steps from the smallest)."""
    cluster_selection_method: Literal["eom", "leaf", "auto"] = "auto"
    """How HDBSCAN counts the reasons. 'eom' can select a few huge clusters on a few hundred
    texts (sample, 400 calls: 3 reasons, NMI 0.05); 'leaf' splits clean clusters into pieces.
    'auto' runs both."""
    count_space: Literal["full", "reduced"] = "full"
    """Of all counts found (every size and method tried), the one whose Ward partition has the
    highest silhouette is kept: 'full' measures it by cosine on the embeddings, 'reduced' on
    UMAP's few dimensions (which rewards a few big, far-apart groups)."""
    count_tolerance: float = Field(default=0.005, ge=0.0, le=0.1)
    """Counts whose silhouette is within this of the best are ties (the full-space silhouette
    is often flat over a range of counts); of those, the best silhouette on the reduced
    vectors wins."""
    silhouette_sample: int = Field(default=3000, ge=100)
    """Texts the silhouette is computed on (a seeded sample beyond this)."""
    ward_max_texts: int = Field(default=12000, ge=100)
    """Ward's tree is built on at most this many texts (a seeded sample; memory grows as the
    square); the others join the nearest group."""
    fit_max_texts: int = Field(default=20_000, ge=100)
    """Reasons are discovered on at most this many texts (a seeded sample of those the fit
    would use); the others join the nearest reason, or are left unexplained when no reason is
    close, as an update assigns a week's calls. The count rule was chosen on 3,000-6,000 texts
    and holds on real sets up to CLINC150's 20,000-text variant; as the fit grows beyond, it
    drifts to mixed reasons (UMAP's 15 neighbours of a point cover an ever smaller part of its
    reason). At 100,000 generated calls fitted on all of them it kept 2 reasons; on the
    110,000-call window, a 20,000 sample gives NMI / ARI / ACC 0.552 / 0.258 / 0.363 (two
    seeds) against 0.507 / 0.199 / 0.292 with 25,000 (docs/reason_discovery.md)."""
    partition: Literal["ward", "hdbscan"] = "ward"
    """'ward': HDBSCAN counts the reasons and Ward assigns every text; 'hdbscan': HDBSCAN's own
    labels, with noise reassigned to the nearest reason when close enough."""
    refine_rounds: int = Field(default=2, ge=0, le=5)
    """Rounds of discriminant refinement after the Ward partition (see
    `ReasonClusterer._refine`); each costs one more UMAP. 0 turns it off."""
    refine_shrinkage: float = Field(default=0.5, gt=0.0, le=1.0)
    """Covariance shrinkage of the refinement's LDA (1: plain centroid directions)."""
    unexplained_quantile: float = Field(default=0.05, ge=0.0, lt=1.0)
    """A noise text stays unexplained when its cosine to its reason's centre is below this
    quantile of all members' cosines to their centres."""
    top_n_words: int = Field(default=10, ge=1, le=30)
    keybert_candidate_words: int = Field(default=20, ge=5)
    """Candidate words per reason that KeyBERTInspired re-ranks (each is embedded once)."""
    mmr_diversity: float = Field(default=0.3, ge=0.0, le=1.0)
    ngram_max: int = Field(default=2, ge=1, le=3)
    representative_docs: int = Field(default=3, ge=1, le=20)
    label_phrases: bool = True
    """Name each reason with a phrase its calls use ('Top up didn't work', 'Skift til
    vinterdæk'; see `naming.phrase_labels`). Off, or when no phrase recurs: its keywords."""
    label_max_words: int = Field(default=4, ge=1, le=6)
    """Longest phrase considered for a label (a fragment may be completed to six words)."""
    label_candidates: int = Field(default=10, ge=1, le=50)
    """Best-ranked phrases per reason compared with its centre (each is embedded once)."""
    label_cover_weight: float = Field(default=1.0, ge=0.0, le=10.0)
    """How much the share of a reason's calls a phrase covers counts against its closeness to
    the reason's centre when a name is chosen (0: the closest phrase; see
    `naming.choose_name`)."""
    label_contrast: float = Field(default=1.0, ge=0.0, le=2.0)
    """A phrase's closeness to its reason is its cosine to the reason's centre less this times
    its highest cosine to another reason's centre (a phrase that fits a neighbour as well names
    neither; 1.0: the margin by which it fits its own reason best)."""
    label_closeness_weight: float = Field(default=0.15, ge=0.0, le=10.0)
    """How much a phrase's plain closeness to its reason's centre (its cosine, without the
    contrast) counts beside its margin and coverage when a name is chosen: among candidates
    of about the same margin and coverage, the one nearer the centre (0: the margin alone;
    see `naming.choose_name` and docs/names.md)."""
    label_calls: int = Field(default=10, ge=0, le=50)
    """Short calls per reason that compete with its phrases for its name, those nearest its
    centre first (each is embedded once; 0: phrases only; see `naming.call_candidates`)."""
    label_call_words: int = Field(default=8, ge=1, le=20)
    """Longest call (in words) that can be a reason's name."""
    name_min_calls: int = Field(default=5, ge=1)
    """Calls a reason needs in a language (da, nb, en) for a name of its own in it
    (`reason_names`); with fewer, readers of that language get the default name."""
    name_weak_share: float = Field(default=0.2, ge=0.0, le=1.0)
    """A name that shares a content word with less than this share of its calls is marked as
    weak evidence in reports."""
    label_terms: int = Field(default=2, ge=1, le=4)
    """Keywords joined into a keyword label ('card arrival / card delivery')."""
