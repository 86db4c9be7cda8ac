"""What clinics do with the leads they get: their answers and quotes, the business-hours
deadlines that chase a silent clinic, and the answer-time figures both sides see."""
