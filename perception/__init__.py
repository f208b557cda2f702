"""The Perception tab (DESIGN.md section 7, docs/perception.md): NPS, CES, CSAT, churn, renewal and
retention cost over a period, and the voice of the customer from the labelled feedback."""
