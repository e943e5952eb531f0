"""Phrase bank of the synthetic radiologists (data, not logic).

Terms per subtype are what a reader (and the agreement test) recognises; every finding
sentence uses one of them. American and British spellings and abbreviations are mixed.
"""

from __future__ import annotations

from ichsilent.domain import PatientClass, Subtype
from ichsilent.simulate.spec import Artefact, BleedSize, BleedStage, MimicKind

SUBTYPE_TERMS: dict[Subtype, tuple[str, ...]] = {
    Subtype.EPIDURAL: ("epidural hematoma", "extradural haematoma", "EDH", "epidural hemorrhage"),
    Subtype.SUBDURAL: (
        "subdural hematoma", "subdural haematoma", "subdural hemorrhage", "SDH",
        "subdural haemorrhage",
    ),
    Subtype.SUBARACHNOID: (
        "subarachnoid hemorrhage", "subarachnoid haemorrhage", "SAH", "subarachnoid blood",
    ),
    Subtype.INTRAPARENCHYMAL: (
        "intraparenchymal hemorrhage", "intracerebral haemorrhage", "parenchymal hematoma",
        "IPH", "intraparenchymal haematoma",
    ),
    Subtype.INTRAVENTRICULAR: (
        "intraventricular hemorrhage", "intraventricular haemorrhage", "IVH",
        "intraventricular blood",
    ),
}  # fmt: skip
IVH_EXTENSION = ("with intraventricular extension", "with extension into the ventricles (IVH)")

SIZE_WORDS: dict[BleedSize, tuple[str, ...]] = {
    BleedSize.TRACE: ("trace", "tiny", "minimal", "thin"),
    BleedSize.SMALL: ("small", "small", "mild"),
    BleedSize.MEDIUM: ("moderate", "moderate-sized", "medium"),
    BleedSize.LARGE: ("large", "extensive", "large"),
}
STAGE_WORDS: dict[BleedStage, tuple[str, ...]] = {
    BleedStage.ACUTE: ("acute", "hyperdense", "acute"),
    BleedStage.SUBACUTE: ("subacute", "isodense subacute"),
    BleedStage.ACUTE_ON_CHRONIC: ("acute-on-chronic", "mixed-density acute on chronic"),
    BleedStage.CHRONIC: ("chronic", "hypodense chronic"),
}
FINDING_TEMPLATES = (
    "{Size} {stage} {term} {where}.",
    "There is a {size} {stage} {term} {where}.",
    "{Size} {stage} {term} is seen {where}.",
    "New {size} {stage} {term} {where}.",
    "{Size} focus of {stage} {term} {where}.",
)
HEDGED_TEMPLATES = (
    "Possible {size} {term} {where}; cannot exclude volume averaging.",
    "Questionable {size} {term} {where}, cannot be excluded.",
    "Subtle hyperdensity {where} may represent {size} {term}.",
)
MASS_EFFECT = (
    " with {mm} mm of midline shift",
    ", causing {mm} mm of midline shift and effacement of the adjacent sulci",
    " with mass effect and {mm} mm midline shift",
)
CHRONIC_TEMPLATES = (
    "Chronic {side} subdural hematoma, unchanged compared with prior.",
    "Hypodense {side} convexity subdural collection consistent with chronic SDH, stable.",
    "Stable chronic {side} subdural haematoma without acute component.",
)
NEGATIVE_FINDINGS = (
    "No acute intracranial hemorrhage, mass effect, or midline shift.",
    "No intracranial haemorrhage.",
    "There is no evidence of acute intracranial hemorrhage.",
    "No acute intracranial hemorrhage or extra-axial collection.",
    "No evidence of intracranial bleed.",
)
NEGATIVE_IMPRESSIONS = (
    "No acute intracranial hemorrhage.",
    "No acute intracranial abnormality. Specifically, no hemorrhage.",
    "Negative for intracranial haemorrhage.",
    "No CT evidence of acute intracranial haemorrhage.",
)
BACKGROUND = (
    "Gray-white matter differentiation is preserved.",
    "Grey-white matter differentiation is maintained.",
    "The ventricles and sulci are appropriate for age.",
    "The basal cisterns are patent.",
    "The visualized paranasal sinuses and mastoid air cells are clear.",
    "The calvarium is intact.",
)
ATROPHY = ("Age-appropriate volume loss.", "Mild generalized cerebral atrophy.")
MIMIC_SENTENCES: dict[MimicKind, tuple[str, ...]] = {
    MimicKind.PINEAL_CALCIFICATION: ("Physiologic pineal calcification.",),
    MimicKind.CHOROID_PLEXUS_CALCIFICATION: (
        "Calcification of the choroid plexus, physiologic.",
        "Choroid plexus calcifications are noted.",
    ),
    MimicKind.BASAL_GANGLIA_CALCIFICATION: (
        "Bilateral basal ganglia calcifications, likely physiologic.",
        "Punctate basal ganglia calcification, not hemorrhage.",
    ),
    MimicKind.DURAL_CALCIFICATION: (
        "Dense falx calcification, not to be mistaken for hemorrhage.",
        "Dural calcification along the falx.",
    ),
}
ARTEFACT_SENTENCES: dict[Artefact, tuple[str, ...]] = {
    Artefact.BEAM_HARDENING: (
        "Beam hardening artifact in the posterior fossa limits evaluation.",
        "Streak artefact through the posterior fossa.",
    ),
    Artefact.MOTION: (
        "Study is degraded by patient motion.",
        "Motion artefact limits assessment.",
    ),
    Artefact.METAL: (
        "Metallic streak artifact from dental hardware.",
        "Streak artefact from metallic hardware.",
    ),
    Artefact.POST_OPERATIVE: (
        "Postoperative changes of a craniotomy with small pneumocephalus.",
        "Post-surgical changes from craniotomy with expected postoperative pneumocephalus.",
    ),
}
HISTORY: dict[PatientClass, tuple[str, ...]] = {
    PatientClass.EMERGENCY: (
        "Fall with head strike, on anticoagulation.",
        "Sudden severe headache. Evaluate for bleed.",
        "Altered mental status.",
        "MVC, trauma.",
        "Syncope.",
        "R/O ICH.",
    ),
    PatientClass.INPATIENT: (
        "Decreased GCS.",
        "Post-op check.",
        "New confusion on the ward.",
        "Follow-up of known findings.",
        "Anticoagulated, fall on ward.",
    ),
    PatientClass.OUTPATIENT: ("Chronic headaches.", "Dizziness.", "Memory loss, evaluate."),
}
COMPARISON_NONE = ("None.", "No prior imaging available.", "None available.")
COMPARISON_PRIOR = ("CT head {date}.", "Prior CT brain dated {date}.", "CT head of {date}.")
ADDENDUM = (
    "ADDENDUM: On review, there is a {size} {term} {where}, not described in the original "
    "report. Findings communicated to the referring clinician.",
    "ADDENDUM: Re-review demonstrates {size} {term} {where}. Discussed with the treating team.",
)
RADIOLOGISTS = ("Dr A. Synth", "Dr B. Phantom", "Dr C. Voxel", "Dr D. Kernel")
RESIDENTS = ("Dr R. Trainee", "Dr S. Registrar")
OUT_OF_SCOPE = {
    "CHEST": (
        "EXAM: CT CHEST WITHOUT CONTRAST\n\nFINDINGS:\nThe lungs are clear. No pleural "
        "effusion or pneumothorax. Heart size is normal.\n\nIMPRESSION:\nNo acute "
        "cardiopulmonary abnormality."
    ),
    "ABDOMEN": (
        "EXAM: CT ABDOMEN AND PELVIS WITH CONTRAST\n\nFINDINGS:\nThe liver, spleen and "
        "kidneys are unremarkable. No free fluid. No retroperitoneal hemorrhage.\n\n"
        "IMPRESSION:\nNo acute intra-abdominal abnormality."
    ),
}
