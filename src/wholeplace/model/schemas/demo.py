"""The demo place's partner extracts, declared once.

Each declaration names the columns a partner delivers, in order, with their type, meaning,
identifiers and known quirks. The demo generator writes its files from these declarations
and the demo mapping files read them back; the data page and docs describe them from here.
The quirks are deliberate: they are the ones real extracts of each kind have.
"""

from wholeplace.model.fields import DatasetSchema, FieldSpec, FieldType, IdentifierKind

T, TS, D, DEC = FieldType.TEXT, FieldType.TIMESTAMP, FieldType.DATE, FieldType.DECIMAL

DEMO_POLICE_CALLS = DatasetSchema(
    name="demo-police-calls",
    title="Wenlow Vale Constabulary: calls for service",
    description="Command-and-control incidents: every call for service and officer-initiated incident, "
    "with its opening and closing category, grade, qualifiers and times, one file per month.",
    fields=(
        FieldSpec("incident_ref", T, "Incident number, unique within the force.", required=True),
        FieldSpec(
            "received", TS, "When the call was received or the incident created (dd/mm/yyyy HH:MM:SS).", required=True
        ),
        FieldSpec(
            "dispatched",
            TS,
            "When a resource was first dispatched.",
            quirks=("Blank when nobody was sent (grade 4, resolved by phone).",),
        ),
        FieldSpec(
            "arrived",
            TS,
            "When the first resource arrived.",
            quirks=("Blank when nobody arrived, including calls cancelled after dispatch.",),
        ),
        FieldSpec("closed", TS, "When the incident was closed."),
        FieldSpec("call_source", T, "How it came in.", required=True, allowed=("999", "101", "ONLINE", "ONVIEW")),
        FieldSpec(
            "caller_type",
            T,
            "Who called.",
            allowed=("PUBLIC", "HEALTH", "MENTAL HEALTH", "SOCIAL CARE", "COUNCIL", "OFFICER"),
        ),
        FieldSpec(
            "caller_phone",
            T,
            "Caller's phone number.",
            identifier=IdentifierKind.PHONE,
            quirks=(
                "Blank for officer-initiated and most online reports.",
                "Written with or without spaces, sometimes with +44.",
            ),
        ),
        FieldSpec("opening_type", T, "Incident type as first recorded (NSIR-style).", required=True),
        FieldSpec(
            "closing_type",
            T,
            "Incident type when closed.",
            quirks=("Differs from opening_type for about one incident in six.",),
        ),
        FieldSpec(
            "grade",
            T,
            "Response grade: G1 emergency, G2 priority, G3 scheduled, G4 resolved without deployment.",
            allowed=("G1", "G2", "G3", "G4"),
        ),
        FieldSpec(
            "qualifiers",
            T,
            "Semicolon-separated qualifiers: MH mental health, ALC alcohol, DA domestic "
            "abuse, VUL vulnerable, REP repeat.",
        ),
        FieldSpec(
            "person_forename",
            T,
            "Forename of the person the incident concerns (welfare, mental health, missing, domestic).",
            identifier=IdentifierKind.FORENAME,
            quirks=("Often a nickname; typed by call handlers, so typos occur.",),
        ),
        FieldSpec("person_surname", T, "Surname of that person.", identifier=IdentifierKind.SURNAME),
        FieldSpec(
            "person_dob",
            D,
            "Date of birth of that person (dd/mm/yyyy).",
            identifier=IdentifierKind.DATE_OF_BIRTH,
            quirks=("Often unknown at the time of the call.",),
        ),
        FieldSpec("incident_address", T, "Address or premises of the incident.", identifier=IdentifierKind.ADDRESS),
        FieldSpec("street", T, "Street and town, without house number."),
        FieldSpec("lon", DEC, "Longitude of the incident location, WGS84.", minimum=-180, maximum=180),
        FieldSpec("lat", DEC, "Latitude of the incident location, WGS84.", minimum=-90, maximum=90),
        FieldSpec("beat", T, "Neighbourhood policing beat."),
        FieldSpec("disposition", T, "How the incident was finalised."),
    ),
    quirks=("Times are local clock times.", "Calls cancelled before arrival have a dispatch time but no arrival."),
)

DEMO_AMBULANCE = DatasetSchema(
    name="demo-ambulance-incidents",
    title="Wenlow Vale Ambulance Service: incidents",
    description="Emergency (999) incidents with the chief complaint, response category, patient details "
    "and what happened (hear and treat, see and treat, conveyance), one file per month.",
    fields=(
        FieldSpec("incident_number", T, "Computer-aided dispatch incident number.", required=True),
        FieldSpec("call_received", TS, "Call connected (yyyy-mm-dd HH:MM:SS).", required=True),
        FieldSpec("dispatched", TS, "First vehicle assigned.", quirks=("Blank for hear-and-treat incidents.",)),
        FieldSpec("on_scene", TS, "First vehicle arrived.", quirks=("Blank for hear-and-treat incidents.",)),
        FieldSpec("clear", TS, "Incident closed or patient handed over."),
        FieldSpec("arp_category", T, "Ambulance Response Programme category.", allowed=("C1", "C2", "C3", "C4")),
        FieldSpec("chief_complaint", T, "Triage chief complaint (protocol number and name).", required=True),
        FieldSpec("alcohol_involved", FieldType.BOOLEAN, "Crew recorded alcohol as a factor (Y/N)."),
        FieldSpec("patient_forename", T, "Patient's forename.", identifier=IdentifierKind.FORENAME),
        FieldSpec("patient_surname", T, "Patient's surname.", identifier=IdentifierKind.SURNAME),
        FieldSpec("patient_dob", D, "Patient's date of birth (yyyy-mm-dd).", identifier=IdentifierKind.DATE_OF_BIRTH),
        FieldSpec(
            "nhs_number",
            T,
            "Patient's NHS number (ten digits).",
            identifier=IdentifierKind.NHS_NUMBER,
            quirks=("Missing for about four incidents in ten: crews cannot always trace it.",),
        ),
        FieldSpec("patient_sex", T, "Patient's sex.", allowed=("M", "F", "U")),
        FieldSpec("patient_postcode", T, "Patient's home postcode.", identifier=IdentifierKind.POSTCODE),
        FieldSpec("incident_easting", FieldType.INTEGER, "Incident location, British National Grid easting (m)."),
        FieldSpec("incident_northing", FieldType.INTEGER, "Incident location, British National Grid northing (m)."),
        FieldSpec("outcome", T, "Hear and treat, see and treat, or see and convey."),
    ),
    quirks=("Locations are British National Grid metres, not longitude/latitude.",),
)

DEMO_AE = DatasetSchema(
    name="demo-ae-attendances",
    title="Wenlow General Hospital: A&E attendances",
    description="Type 1 emergency department attendances (ECDS-like), with arrival mode, chief complaint "
    "group, acuity, patient details and residence small area, one file per month.",
    fields=(
        FieldSpec("attendance_id", T, "Attendance identifier.", required=True),
        FieldSpec("arrival", TS, "Arrival time (yyyy-mm-dd HH:MM).", required=True),
        FieldSpec("departure", TS, "Departure time (yyyy-mm-dd HH:MM)."),
        FieldSpec("arrival_mode", T, "How the patient arrived.", allowed=("Ambulance", "Walk-in", "Police")),
        FieldSpec("complaint_group", T, "Chief complaint group.", required=True),
        FieldSpec("acuity", T, "Initial acuity, 1 (immediate) to 5 (non-urgent)."),
        FieldSpec("nhs_number", T, "NHS number, written '999 123 4567'.", identifier=IdentifierKind.NHS_NUMBER),
        FieldSpec("forename", T, "Patient's forename.", identifier=IdentifierKind.FORENAME),
        FieldSpec("surname", T, "Patient's surname.", identifier=IdentifierKind.SURNAME),
        FieldSpec("date_of_birth", D, "Patient's date of birth (yyyy-mm-dd).", identifier=IdentifierKind.DATE_OF_BIRTH),
        FieldSpec("sex", T, "Patient's sex.", allowed=("M", "F")),
        FieldSpec("postcode", T, "Patient's home postcode.", identifier=IdentifierKind.POSTCODE),
        FieldSpec(
            "residence_lsoa",
            T,
            "Small area of the patient's residence (derived by the trust).",
            quirks=("The only location given: attendances are placed by where patients live.",),
        ),
        FieldSpec("discharge", T, "Discharge destination."),
    ),
)

DEMO_CRISIS = DatasetSchema(
    name="demo-crisis-contacts",
    title="Wenlow Vale Mental Health Trust: crisis service contacts",
    description="Contacts of the crisis resolution and home treatment team, liaison psychiatry and the street "
    "triage pilot, including section 136 assessments, one file per month.",
    fields=(
        FieldSpec("contact_id", T, "Contact identifier.", required=True),
        FieldSpec("contact_start", TS, "Start of the contact (dd/mm/yyyy HH:MM).", required=True),
        FieldSpec("contact_end", TS, "End of the contact (dd/mm/yyyy HH:MM)."),
        FieldSpec("team", T, "Team that made the contact."),
        FieldSpec("contact_type", T, "Kind of contact.", required=True),
        FieldSpec("referral_source", T, "Who referred the person."),
        FieldSpec("nhs_number", T, "NHS number.", identifier=IdentifierKind.NHS_NUMBER),
        FieldSpec("forename", T, "Client's forename.", identifier=IdentifierKind.FORENAME),
        FieldSpec("surname", T, "Client's surname.", identifier=IdentifierKind.SURNAME),
        FieldSpec("date_of_birth", D, "Client's date of birth (dd/mm/yyyy).", identifier=IdentifierKind.DATE_OF_BIRTH),
        FieldSpec("postcode", T, "Client's home postcode.", identifier=IdentifierKind.POSTCODE),
        FieldSpec("lsoa", T, "Small area of the client's residence."),
        FieldSpec("outcome", T, "Outcome of the contact."),
    ),
)

DEMO_COUNCIL = DatasetSchema(
    name="demo-council-reports",
    title="Wenlow Vale Council: service requests",
    description="Reports to the council of anti-social behaviour, noise, fly-tipping, housing disrepair and "
    "other environmental problems, with the reporter's details, one file per month.",
    fields=(
        FieldSpec("case_ref", T, "Service request reference.", required=True),
        FieldSpec(
            "date_received",
            TS,
            "When the report was received (dd/mm/yyyy HH:MM).",
            required=True,
            quirks=("A few rows from the old system carry the placeholder 00/00/0000 00:00.",),
        ),
        FieldSpec(
            "date_closed", TS, "When the case was closed (dd/mm/yyyy HH:MM).", quirks=("Blank while the case is open.",)
        ),
        FieldSpec("request_type", T, "Type of request.", required=True),
        FieldSpec(
            "reporter_name",
            T,
            "Reporter's full name.",
            identifier=IdentifierKind.NAME,
            quirks=("Blank for anonymous reports.",),
        ),
        FieldSpec("reporter_phone", T, "Reporter's phone number.", identifier=IdentifierKind.PHONE),
        FieldSpec("location_address", T, "Address the report is about.", identifier=IdentifierKind.ADDRESS),
        FieldSpec("latitude", DEC, "Latitude, WGS84.", minimum=-90, maximum=90),
        FieldSpec("longitude", DEC, "Longitude, WGS84.", minimum=-180, maximum=180),
        FieldSpec("ward", T, "Council ward name."),
        FieldSpec("status", T, "Case status and outcome."),
    ),
)

DEMO_SCHEMAS = (DEMO_POLICE_CALLS, DEMO_AMBULANCE, DEMO_AE, DEMO_CRISIS, DEMO_COUNCIL)
