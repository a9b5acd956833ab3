"""data.police.uk street-level crime and anti-social behaviour (the ``-street.csv`` files)."""

from wholeplace.model.fields import DatasetSchema, FieldSpec, FieldType

CRIME_TYPES = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
)

POLICE_UK_STREET = DatasetSchema(
    name="police-uk-street",
    title="data.police.uk street-level crime",
    description="Monthly street-level crimes and anti-social behaviour incidents published by "
    "each police force, one file per force and month.",
    source_url="https://data.police.uk/about/",
    fields=(
        FieldSpec(
            "Crime ID",
            FieldType.TEXT,
            "64-character hash identifying a crime.",
            quirks=(
                "Blank for every anti-social behaviour row.",
                "Not unique: the same crime can appear more than once.",
            ),
        ),
        FieldSpec("Month", FieldType.MONTH, "Month of the crime, YYYY-MM.", required=True),
        FieldSpec("Reported by", FieldType.TEXT, "Force that provided the data.", required=True),
        FieldSpec("Falls within", FieldType.TEXT, "Force whose area the crime falls within.", required=True),
        FieldSpec(
            "Longitude",
            FieldType.DECIMAL,
            "Anonymised snap point, WGS84.",
            minimum=-180,
            maximum=180,
            quirks=("Blank when the crime could not be located ('No Location').",),
        ),
        FieldSpec("Latitude", FieldType.DECIMAL, "Anonymised snap point, WGS84.", minimum=-90, maximum=90),
        FieldSpec(
            "Location",
            FieldType.TEXT,
            "Description of the snap point ('On or near …').",
            quirks=("Sometimes exactly 'On or near ' with no street name.",),
        ),
        FieldSpec(
            "LSOA code",
            FieldType.TEXT,
            "2011 (later 2021) LSOA code of the snap point.",
            quirks=("May lie outside the force area: points snapped across the border.",),
        ),
        FieldSpec("LSOA name", FieldType.TEXT, "Name of that LSOA."),
        FieldSpec(
            "Crime type", FieldType.TEXT, "One of the 14 published crime types.", required=True, allowed=CRIME_TYPES
        ),
        FieldSpec(
            "Last outcome category",
            FieldType.TEXT,
            "Latest outcome when extracted.",
            quirks=("Blank for anti-social behaviour.",),
        ),
        FieldSpec("Context", FieldType.TEXT, "Free-text context; almost always empty."),
    ),
    quirks=(
        "Anti-social behaviour rows have no Crime ID, and identical rows are separate "
        "incidents: they are never de-duplicated.",
        "Only the month is published, never the day or time.",
        "A month re-published by the force replaces that force's month.",
    ),
)
