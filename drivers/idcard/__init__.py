"""Second-generation ID-card readers (SAM module): tie a ticket to a citizen, grant elderly priority."""

DRIVERS = {
    "sam": "drivers.idcard.sam:SamReader",
}
