"""Official documents (公文) in Word: their frozen data, their content and the .docx renderer."""
