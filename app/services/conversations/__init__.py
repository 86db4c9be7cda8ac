"""The threads between a patient and each clinic that holds their lead: the messages, kept
encrypted like the inquiry, and the notices that tell the other side without quoting them."""
