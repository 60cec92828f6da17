"""SpeedSMS: SMS through Vietnam's SpeedSMS gateway."""
