"""The community support directory: services, organisations and locations in the Open Referral UK
profile of HSDS 3.0 (with HSDS 3.1 ``service_capacity``), kept in the operational store, imported and
exported as HSDS JSON, HSDS CSV data packages and a simple spreadsheet template, searched by the
Open Referral UK API (``wholeplace.web.oruk_api``), with likely duplicates found and merged by an editor."""
